"""Logging, monitoring and alarms (README layer "5. Observability"): what is logged, how long kept, who is paged."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import ConfigModel, check_retention_days
from .usage_plans import Throttle

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AlarmSettings(ConfigModel):
    """Thresholds for the stage's alarms; every alarm notifies the component's SNS topic."""

    emails: tuple[str, ...] = Field(default=(), examples=[["api-oncall@example.com"]])
    server_error_percent: float = Field(default=1.0, gt=0, le=100)
    client_error_percent: float = Field(default=10.0, gt=0, le=100)
    latency_p99_ms: int = Field(default=2_500, ge=1, le=300_000)
    traffic_spike_requests: int = Field(default=10_000, ge=1)
    """Requests per 5 minutes that count as a spike."""
    waf_blocked_requests: int = Field(default=100, ge=1)
    """WAF-blocked requests per 5 minutes worth a look."""
    period_seconds: Literal[60, 300] = 60
    evaluation_periods: int = Field(default=5, ge=1, le=60)
    datapoints_to_alarm: int = Field(default=3, ge=1, le=60)

    @field_validator("emails")
    @classmethod
    def _addresses(cls, emails: tuple[str, ...]) -> tuple[str, ...]:
        bad = [e for e in emails if not _EMAIL.match(e)]
        if bad:
            raise ValueError(f"not e-mail addresses: {bad}; e.g. api-oncall@example.com")
        if len({e.lower() for e in emails}) != len(emails):
            raise ValueError("duplicate e-mail addresses")
        return emails

    @model_validator(mode="after")
    def _m_of_n(self) -> AlarmSettings:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapointsToAlarm ({self.datapoints_to_alarm}) cannot exceed evaluationPeriods "
                f"({self.evaluation_periods})"
            )
        return self


class ObservabilitySettings(ConfigModel):
    """Access and execution logs, the key that encrypts them, the stage's method settings and alarms."""

    log_retention_days: int = 365
    kms_encryption: bool = True
    """A customer-managed key for the log groups and the alarm topic; turning it off is warned about."""
    kms_deletion_window_days: int = Field(default=30, ge=7, le=30)
    execution_logging: Literal["ERROR", "INFO"] = "ERROR"
    throttle: Throttle = Throttle(rate_limit=500, burst_limit=1_000)
    """Stage-wide default per-method throttle (usage plans narrow it per client)."""
    create_account_role: bool = False
    """Create the region's API Gateway CloudWatch Logs role (account-wide: only one stack should)."""
    alarms: AlarmSettings = AlarmSettings()
    dashboard: bool = True

    _retention = field_validator("log_retention_days")(check_retention_days)
