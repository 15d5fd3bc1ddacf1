"""Entry point the Pulumi CLI runs: build the pack (this call serves gRPC and never returns)."""

from pulumi_policy import EnforcementLevel, PolicyPack
from secure_api_policies import PACK_DESCRIPTION, PACK_NAME, policies

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(),
    provider="aws",
    tags=["aws", "apigateway", "security"],
)
