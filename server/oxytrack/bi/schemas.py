"""Parameters and answers of the read API for BI, as pydantic models (its OpenAPI schema).

Durations are integer milliseconds (`*_ms`), as stored; dates are ISO 8601
(`YYYY-MM-DD`) local days of each employee, hours 0-23 of their wall clock.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from oxytrack.bi.queries import By
from oxytrack.web.forms import FIRST_DATE, LAST_DATE

# One page holds at most this many rows: a year of one employee's titles
# is a few thousand, so a BI tool pages through it in a handful of calls.
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
# Past this an offset is no real page (no employee has a million titles a year).
MAX_OFFSET = 1_000_000
NAME_MAX = 100
TEXT_MAX = 200
# As the detail page's reason form (audit/reason.py).
REASON_MAX_LENGTH = 200


class PageIn(BaseModel):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="rows per page")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="rows to skip")


class EmployeesIn(PageIn):
    agency: str = Field("", max_length=NAME_MAX, description="exact agency name, in my scopes")
    service: str = Field("", max_length=NAME_MAX, description="exact service name, in my scopes")
    q: str = Field(
        "",
        max_length=TEXT_MAX,
        description="a part of the name, login, agency or service (case and accents ignored)",
    )


class RangeIn(PageIn):
    start: date = Field(description="first day, inclusive", ge=FIRST_DATE, le=LAST_DATE)
    end: date = Field(
        description="last day, inclusive (at most 366 days)", ge=FIRST_DATE, le=LAST_DATE
    )
    by: By = Field(description="what the rows are: title, app, category, day or hour")


class EmployeeUsageIn(RangeIn):
    reason: str = Field(
        "",
        max_length=REASON_MAX_LENGTH,
        description="why this employee's activity is read, written to the audit log; "
        "required when the server asks for an access reason",
    )


class TeamUsageIn(RangeIn):
    agency: str = Field("", max_length=NAME_MAX, description="exact agency name, in my scopes")
    service: str = Field("", max_length=NAME_MAX, description="exact service name, in my scopes")


class EmployeeOut(BaseModel):
    id: UUID = Field(description="the employee's stable id (as in the web app's URLs)")
    name: str = Field(description="the display name, else the login")
    username: str
    domain: str
    display_name: str
    agency: str | None
    service: str | None
    time_zone: str = Field(description="IANA zone of their days (latest device, else agency)")


class EmployeesOut(BaseModel):
    count: int = Field(description="rows in all pages")
    limit: int
    offset: int
    items: list[EmployeeOut]


class UsageRowOut(BaseModel):
    """One row; which fields it has depends on `by` (absent ones are omitted)."""

    title: str | None = Field(None, description="by=title: the window title as recorded")
    app: str | None = Field(None, description="by=title, by=app: the application's friendly name")
    app_raw: list[str] | None = Field(
        None, description="by=title, by=app: the raw executable or app ids behind it"
    )
    category: str | None = Field(None, description="by=category (and title): its name")
    colour: str | None = Field(None, description="by=category: #rrggbb")
    day: date | None = Field(None, description="by=day, by=hour: the local day")
    hour: int | None = Field(None, ge=0, le=23, description="by=hour: local hour, 0-23")
    active_ms: int = Field(ge=0, description="active time, milliseconds")
    idle_ms: int = Field(ge=0, description="idle time (screen on, no input), milliseconds")


class UsageOut(BaseModel):
    start: date
    end: date
    by: By
    unit: str = Field("ms", description="the unit of every duration: milliseconds")
    employee: UUID | None = Field(None, description="the employee, for an employee's usage")
    agency: str | None = Field(None, description="the team's agency, if one was asked")
    service: str | None = Field(None, description="the team's service, if one was asked")
    count: int = Field(description="rows in all pages")
    limit: int
    offset: int
    items: list[UsageRowOut]
