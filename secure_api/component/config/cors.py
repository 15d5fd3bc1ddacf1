"""CORS settings: which browser origins may call the API and what their pages may send and read.

API Gateway (REST) has no CORS switch: the component writes the headers itself into a mock
`OPTIONS` operation per path (the preflight), into mock integrations' responses and into every
gateway response. What a header can hold there decides what is possible — see `CorsSettings`.
Sources: the Fetch standard's CORS protocol (https://fetch.spec.whatwg.org/#http-cors-protocol) and
"CORS for REST APIs in API Gateway" (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator

from .base import ConfigModel

ANY_ORIGIN = "*"
# Methods a preflight may allow (OPTIONS is the preflight itself).
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
# Chromium caps Access-Control-Max-Age at 2 hours (Firefox at 24 hours): a larger value is cut, so it is refused.
MAX_AGE_CAP_SECONDS = 7_200
# RFC 9110 `token`: the characters a header field name may hold.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def origin_problem(origin: str, allow_localhost: bool) -> str | None:
    """Why `origin` is not an exact origin a browser sends (`https://host[:port]`), or None if it is."""
    if origin == ANY_ORIGIN:
        return None
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError as error:
        return f"{origin!r} is not an origin: {error}"
    if parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS:
        if not allow_localhost:
            return f"{origin!r} is plain HTTP: set cors.allowLocalhost: true to allow a local development origin"
        if port is None:
            return f"{origin!r}: a local development origin names its port, e.g. http://localhost:3000"
    elif parts.scheme != "https":
        return f"{origin!r} must be an https:// origin, e.g. https://app.example.com"
    if not parts.hostname or "*" in origin:
        return f"{origin!r} must name one host; browsers match origins exactly, wildcards never match"
    if parts.path or parts.query or parts.fragment or parts.username or parts.password or origin.endswith("/"):
        return f"{origin!r} is not an origin: scheme://host[:port] only, no path, query or trailing '/'"
    if origin != origin.lower():
        return f"{origin!r} must be lowercase, as browsers send it"
    if port is not None and port == {"https": 443, "http": 80}[parts.scheme]:
        return f"{origin!r}: browsers omit the default port, write it without ':{port}'"
    return None


class CorsSettings(ConfigModel):
    """`cors`: lets browser apps on the listed origins call the API and read its answers.

    `allowOrigins` holds exact origins (`https://app.example.com`); `*` alone means any origin and is
    accepted only without credentials. A gateway response can only hold a fixed value or copy a
    request header, so with several origins the gateway's own error answers (401, 403, 429, 5xx)
    name the first origin; preflights and mock answers echo the caller's origin only when it is
    listed. `allowCredentials` lets pages send cookies or TLS client certificates (not needed for a
    bearer token in `Authorization`). Times in seconds.
    """

    # Declared before `allowOrigins`, whose check reads them.
    allow_localhost: bool = False
    """Accept `http://localhost:<port>` and `http://127.0.0.1:<port>` (development only; warned)."""
    allow_credentials: bool = False
    allow_origins: tuple[str, ...] = Field(min_length=1, examples=[["https://app.example.com"]])
    allow_methods: tuple[str, ...] | None = Field(default=None, examples=[["GET", "POST"]])
    """Default: per path, the methods of the CORS routes on that path."""
    allow_headers: tuple[str, ...] | None = Field(default=None, examples=[["Authorization", "Content-Type"]])
    """Default: the authorizer's header(s), `x-api-key` and `Content-Type`."""
    expose_headers: tuple[str, ...] = Field(default=(), examples=[["x-amzn-RequestId"]])
    max_age_seconds: int = Field(default=600, ge=0, le=MAX_AGE_CAP_SECONDS)

    @field_validator("allow_origins")
    @classmethod
    def _exact_origins(cls, origins: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        problems = [p for o in origins if (p := origin_problem(o, bool(info.data.get("allow_localhost"))))]
        if len(set(origins)) != len(origins):
            problems.append(f"duplicate origins in {list(origins)}")
        if ANY_ORIGIN in origins and len(origins) > 1:
            problems.append("'*' already allows every origin: list it alone or not at all")
        elif ANY_ORIGIN in origins and info.data.get("allow_credentials"):
            problems.append(
                "'*' with allowCredentials: true is refused: browsers reject it, and echoing any origin "
                "instead would let every site read credentialed answers; list the exact origins"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return origins

    @field_validator("allow_methods")
    @classmethod
    def _methods(cls, methods: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if methods is None:
            return None
        upper = tuple(m.upper() for m in methods)
        unknown = [m for m in upper if m not in CORS_METHODS]
        if unknown or not upper:
            raise ValueError(f"unknown methods {unknown}; allowed: {list(CORS_METHODS)}")
        return tuple(dict.fromkeys(upper))

    @field_validator("allow_headers", "expose_headers")
    @classmethod
    def _header_names(cls, headers: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if headers is None:
            return None
        bad = [h for h in headers if not _HEADER_NAME.match(h)]
        if bad:
            raise ValueError(f"not HTTP header names: {bad}; e.g. X-Request-Id")
        if "*" in headers:
            raise ValueError("'*' is not a header list: name the headers (with credentials browsers ignore it)")
        return headers

    @property
    def any_origin(self) -> bool:
        return self.allow_origins == (ANY_ORIGIN,)

    @property
    def local_origins(self) -> list[str]:
        return [o for o in self.allow_origins if o.startswith("http://")]
