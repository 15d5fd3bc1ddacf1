"""The one way this component makes a log group: retained, encrypted when there is a key, undeletable."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .context import LayerContext


def protected_log_group(
    ctx: LayerContext, role: str, name: pulumi.Input[str], retention_days: int, key: aws.kms.Key | None
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        ctx.child(role),
        name=name,
        retention_in_days=retention_days,
        kms_key_id=key.arn if key else None,
        deletion_protection_enabled=True,
        tags=ctx.marked_tags("log_group"),
        # Logs are audit and security evidence: no config change or stack destroy may delete them.
        opts=ctx.opts(protect=True, retain_on_delete=True),
    )
