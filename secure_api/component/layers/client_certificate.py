"""The certificate API Gateway presents to HTTPS backends, so they can refuse calls that bypass it.

Backends trust its `pem_encoded_certificate` (stack output `backendClientCertificatePem`). It
expires (`expiration_date`): rotate with `pulumi up --replace <its URN>` and give backends the new PEM.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .context import LayerContext


def build_client_certificate(ctx: LayerContext) -> aws.apigateway.ClientCertificate | None:
    if not ctx.config.backend_client_certificate:
        pulumi.log.warn(
            "backendClientCertificate is off: HTTPS backends cannot tell calls from API Gateway from any other caller"
        )
        return None
    return aws.apigateway.ClientCertificate(
        ctx.child("backend-certificate"),
        description=f"{ctx.api_name} stage {ctx.config.api.stage_name}: presented to HTTPS backends",
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
