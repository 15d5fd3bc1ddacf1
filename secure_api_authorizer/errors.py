"""The two ways the authorizer says no before a policy exists."""


class ConfigError(ValueError):
    """The function's environment is invalid: a deployment bug, so it fails loudly at init."""


class AuthenticationError(Exception):
    """Missing or invalid credentials (HTTP 401); ``reason`` is the class logged, never the secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
