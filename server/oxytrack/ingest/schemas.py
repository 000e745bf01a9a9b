"""Payloads of the agent API (DESIGN.md, wire protocol), as pydantic models.

These models are the published OpenAPI schema: the agent's contract test
reads it, so every change here is a change of the wire protocol.

Limits that have their own error code (span count, future, too long, too
old) are checked by the view, not here, so an agent learns *which* rule it
broke; the schema only fixes types and field lengths.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal, NotRequired
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)
from typing_extensions import TypedDict

from oxytrack.org.models import DISPLAY_NAME_MAX, clean_display_name

# C0 and C1 control characters, and lone surrogates (which JSON escapes can
# carry but no database encoding accepts).
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

# PositiveIntegerField is a 32-bit integer on PostgreSQL.
MAX_COUNT = 2**31 - 1


def _no_control_characters(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("control characters are not allowed")
    return value


# An identity field (user name, host name…): control characters are refused.
Name = Annotated[str, AfterValidator(_no_control_characters)]
# A person's name as the OS spells it: shown on pages, so control and bidi
# characters are removed rather than refused (a name is no reason to fail).
DisplayName = Annotated[str, AfterValidator(clean_display_name)]


def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None


IpAddress = Annotated[
    str,
    AfterValidator(_ip_address),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]}
    ),
]
# At most 32 addresses: a PC has a handful of interfaces, not hundreds.
IpList = Annotated[list[IpAddress], Field(max_length=32)]


class _In(BaseModel):
    # Unknown keys are ignored so a newer agent can talk to an older server.
    # Strict: JSON types as declared ("1" is not a number, 0 not an address).
    model_config = ConfigDict(extra="ignore", strict=True)


# A typed dict, not a model: a batch holds thousands, and pydantic validates
# these about twice as fast, for the same schema.
class SpanIn(TypedDict):
    """One stretch of time on one focused window."""

    __pydantic_config__ = ConfigDict(extra="ignore", strict=True)  # type: ignore[misc]

    start: Annotated[
        AwareDatetime, Field(description="ISO 8601 with a UTC offset; naive is refused")
    ]
    duration_s: Annotated[
        float, Field(ge=0, allow_inf_nan=False, description="seconds, at most 24 h")
    ]
    app: Annotated[str, Field(max_length=255, description="control characters are removed")]
    title: Annotated[
        str,
        Field(description="control characters are removed and the rest cut at 1,024 characters"),
    ]
    active: bool
    keys: Annotated[int, Field(ge=0, le=MAX_COUNT)]
    clicks: Annotated[int, Field(ge=0, le=MAX_COUNT)]
    tracked: NotRequired[
        Annotated[
            bool,
            Field(
                description=(
                    "false: the employee's private pause, stored as time not tracked "
                    "(never idle), its app, title and counts ignored; absent: true"
                )
            ),
        ]
    ]


class BatchIn(_In):
    """A batch of spans, named by a UUID the agent chose and keeps across retries."""

    batch_id: UUID
    sent_at: AwareDatetime
    time_zone: Name | None = Field(default=None, max_length=64, description="IANA name")
    local_ips: IpList | None = None
    spans: list[SpanIn] = Field(description="at most 5,000 (OXYTRACK_MAX_BATCH_SPANS)")


class BatchOut(BaseModel):
    accepted: int = Field(description="spans stored for this batch (now or at its first upload)")
    duplicate: bool = Field(description="true when this batch id was already stored")
    policy_version: str = Field(description="refetch GET policy when it differs")


class EnrollIn(_In):
    """The install dialog's answers and the machine's identity."""

    username: Name = Field(min_length=1, max_length=150)
    domain: Name = Field(default="", max_length=150)
    display_name: DisplayName | None = Field(
        default=None,
        max_length=DISPLAY_NAME_MAX,
        description=(
            "the person's full name from the OS; control and bidi characters are removed; "
            "kept until the super-admin edits it; absent or empty changes nothing"
        ),
    )
    hostname: Name = Field(min_length=1, max_length=255)
    os: Name = Field(default="", max_length=100)
    agent_version: Name = Field(default="", max_length=50)
    time_zone: Name = Field(max_length=64, description="IANA name, e.g. Europe/Paris")
    local_ips: IpList = Field(default_factory=list)
    agency: Name | None = Field(default=None, max_length=100)
    service: Name | None = Field(default=None, max_length=100)


class RedactRuleOut(BaseModel):
    """One redaction rule (agent/oxytrack_agent/redaction.py applies it; first match wins)."""

    name: str
    apps: str | None = Field(default=None, description="regex on the app name, case ignored")
    title: str | None = Field(default=None, description="regex on the title, case ignored")
    replace_with: Literal["app", "category"] = Field(
        description="what the whole title becomes: the app name or `category`"
    )
    category: str | None = None

    @model_serializer(mode="wrap")
    def _without_absent_parts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A rule travels as stored: a part it does not have is absent, not null.
        return {k: v for k, v in handler(self).items() if v is not None}


class ScheduleOut(BaseModel):
    """Working hours: wall-clock ranges in the employee's zone; a missing weekday is off."""

    mon: list[tuple[str, str]] | None = None
    tue: list[tuple[str, str]] | None = None
    wed: list[tuple[str, str]] | None = None
    thu: list[tuple[str, str]] | None = None
    fri: list[tuple[str, str]] | None = None
    sat: list[tuple[str, str]] | None = None
    sun: list[tuple[str, str]] | None = None
    holidays: (
        Literal["fr", "fr-alsace-moselle", "fr-971", "fr-972", "fr-973", "fr-974", "fr-976"] | None
    ) = Field(default=None, description="public holidays off; null: none")

    @model_serializer(mode="wrap")
    def _days_off_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A day off travels as absent, as the admin wrote it; `holidays` is always there.
        return {k: v for k, v in handler(self).items() if v is not None or k == "holidays"}


class PolicyOut(BaseModel):
    version: str
    sample_interval_s: int
    upload_interval_s: int
    idle_threshold_s: int
    titles: Literal["full", "app_only"]
    redact: list[str]
    exclude_apps: list[str]
    input_counts: bool
    redact_rules: list[RedactRuleOut] = Field(
        description="applied before `redact`; agents that predate them use `redact` alone"
    )
    browser_sites: bool = Field(description="browsers keep a URL's host, not its path or query")
    schedule: ScheduleOut | None = Field(
        description="working hours: outside them the agent records nothing; null: any hour"
    )
    pause_max_minutes_per_day: int = Field(
        ge=0, description="the employee's private pause per day; 0: no pause"
    )


class EnrollOut(BaseModel):
    device_id: UUID
    device_token: str = Field(description="shown once; send it as `Authorization: Bearer`")
    policy: PolicyOut


class ChoicesOut(BaseModel):
    agencies: list[str]
    services: list[str]


class ErrorOut(BaseModel):
    code: str = Field(description="stable, machine-readable (see docs/api.md)")
    message: str = Field(description="for people: French first, then English where useful")
