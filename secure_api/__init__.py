"""secure-api: an AWS API Gateway REST API behind every layer of the secure API gateway model.

Public API:

- `SecureApi(name, args, opts)`: the component (type token `secure-api:index:SecureApi`).
- `SecureApiArgs`: its typed args (TypedDicts; the nested types and enums are in `secure_api.args`).
  Fields that name a resource created elsewhere (function ARNs, backend URLs, VPC endpoint ids,
  certificate, hosted zone, KMS key, truststore PEM, issuer and JWKS URLs) accept Outputs.
- `StackConfig`: the validated config the component builds from.
- `parse_config(values)`: validate a camelCase mapping (the shape of the `secure-api:` stack config).
- `read_config()`: read and validate the running program's `secure-api:` stack config.
- `ConfigError`: raised by both readers, listing every problem with its key path.

The Pulumi component plugin (`python -m pulumi.run.plugin secure-api`) serves every
`ComponentResource` subclass exported here, so only real components are exported.
"""

from importlib import metadata

from . import args
from .args import SecureApiArgs
from .component.config import ConfigError, StackConfig, parse_config, read_config
from .component.resource import SecureApi

__version__ = metadata.version("secure-api")

__all__ = [
    "ConfigError",
    "SecureApi",
    "SecureApiArgs",
    "StackConfig",
    "__version__",
    "args",
    "parse_config",
    "read_config",
]
