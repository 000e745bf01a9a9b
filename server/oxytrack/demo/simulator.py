"""A seeded simulation of an office: who works where, on which PC, in which windows.

Pure Python, no database: `plan_organisation` draws the people and their
machines, `simulate_employee` their spans. Every employee has their own
generator derived from (seed, index), so one person's activity does not
depend on how many others are simulated or in which chunk they are written.

Times: working hours are laid out on the wall clock of the employee's
agency (their devices' time zone), converted to UTC, then stepped in whole
milliseconds. A span that reaches the next local midnight is cut there with
`split_at_midnight`, so each span's `day` is exact in the device's zone.
"""

from __future__ import annotations

import bisect
import itertools
import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from oxytrack.activity.days import next_local_midnight, split_at_midnight
from oxytrack.demo import data

DEFAULT_SEED = 2026
DEFAULT_EMPLOYEES = 40
DEFAULT_DAYS = 30
DOMAIN = "OXY"
EMAIL_DOMAIN = "oxytrack-demo.fr"

_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class AgencyPlan:
    name: str
    time_zone: str
    code: str


@dataclass(frozen=True)
class DevicePlan:
    public_id: uuid.UUID
    hostname: str
    os: str
    agent_version: str
    time_zone: str
    last_ip: str
    local_ips: list[str]
    laptop: bool


@dataclass
class EmployeePlan:
    """One person: identity, place, machines and working habits."""

    index: int
    public_id: uuid.UUID
    first_name: str
    last_name: str
    username: str
    agency: AgencyPlan
    service: str
    devices: list[DevicePlan]
    # Habits, in minutes after local midnight unless stated.
    arrive: float = 510.0
    lunch: float = 720.0
    lunch_len: float = 75.0
    leave: float = 1050.0
    sleeps_at_lunch: float = 0.5  # probability the PC sleeps (no time) rather than idles
    intensity: float = 1.0  # typing and clicking speed factor
    day_off: int | None = None  # a weekday (0 = Monday) not worked: part time
    remote_days: frozenset[int] = frozenset()  # weekdays on the laptop
    night_owl: bool = False  # sometimes works late, past midnight
    vacation: frozenset[date] = frozenset()

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def email(self) -> str:
        return f"{_ascii(self.first_name)}.{_ascii(self.last_name)}@{EMAIL_DOMAIN}"


class SimSpan(NamedTuple):
    """A span as the simulator emits it; `window` indexes `Activity.windows`.

    A NamedTuple: millions are made, and a frozen dataclass is several times
    slower to build.
    """

    device: int
    start: datetime  # UTC
    duration_ms: int
    day: date  # local day in the device's time zone
    window: int
    active: bool
    keys: int
    clicks: int


@dataclass
class Activity:
    windows: list[tuple[str, str]]
    spans: list[SimSpan] = field(default_factory=list)


@dataclass
class Organisation:
    agencies: list[AgencyPlan]
    services: list[str]
    employees: list[EmployeePlan]


def _ascii(text: str) -> str:
    """Lower-case ASCII for logins and e-mail addresses: 'Lefèvre' -> 'lefevre'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID from the seeded generator, so URLs are the same on every run."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


def agency_count(employees: int) -> int:
    """3 agencies up to 40 people, then about one per 25 people, at most 70."""
    if employees <= DEFAULT_EMPLOYEES:
        return len(data.NAMED_AGENCIES)
    return max(len(data.NAMED_AGENCIES), min(data.MAX_AGENCIES, -(-employees // 25)))


def plan_agencies(count: int) -> list[AgencyPlan]:
    """The three named agencies, then French cities."""
    agencies = [AgencyPlan(name, tz, code) for name, tz, code in data.NAMED_AGENCIES]
    for index, (name, tz) in enumerate(data.EXTRA_AGENCIES[: count - len(agencies)]):
        agencies.append(AgencyPlan(name, tz, f"A{index + len(data.NAMED_AGENCIES) + 1:02d}"))
    return agencies


def plan_organisation(seed: int, employees: int, first_day: date, last_day: date) -> Organisation:
    """Agencies, services and `employees` people with their devices and habits.

    The first people cover every (named agency, service) pair, so each demo
    admin's scope has someone in it; the very first is Thomas Sueur (`tsueur`)
    of Nice, whose Documents folder appears in a hostile title.
    """
    rng = random.Random(f"oxytrack-demo:{seed}:org")  # noqa: S311 (a simulation, not a secret)
    agencies = plan_agencies(agency_count(employees))
    services = [name for name, _ in data.SERVICES]
    # Named agencies are the big ones; the others share the rest.
    agency_weights = [6.0, 5.0, 3.0] + [1.0] * (len(agencies) - 3)
    service_weights = [share for _, share in data.SERVICES]
    coverage = list(itertools.product(range(3), range(len(services))))
    people: list[EmployeePlan] = []
    usernames: set[str] = set()
    for index in range(employees):
        if index < len(coverage):
            agency_index, service_index = coverage[index]
        else:
            agency_index = rng.choices(range(len(agencies)), agency_weights)[0]
            service_index = rng.choices(range(len(services)), service_weights)[0]
        agency = agencies[agency_index]
        if index == 0:
            first, last = "Thomas", "Sueur"
        else:
            first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
        base = (_ascii(first)[0] + _ascii(last))[:20]
        username = base
        for suffix in itertools.count(2):
            if username not in usernames:
                break
            username = f"{base}{suffix}"
        usernames.add(username)
        people.append(
            _plan_person(
                rng,
                index,
                first,
                last,
                username,
                agency,
                services[service_index],
                first_day,
                last_day,
            )
        )
    return Organisation(agencies, services, people)


def _plan_person(
    rng: random.Random,
    index: int,
    first: str,
    last: str,
    username: str,
    agency: AgencyPlan,
    service: str,
    first_day: date,
    last_day: date,
) -> EmployeePlan:
    agency_octet = (hash_code(agency.code) % 200) + 10
    host_number = f"{index + 1:04d}"
    devices = [
        DevicePlan(
            public_id=_uuid(rng),
            hostname=f"{agency.code}-PC{host_number}",
            os=_pick(rng, data.OSES),
            agent_version=_pick(rng, data.AGENT_VERSIONS),
            time_zone=agency.time_zone,
            last_ip=f"10.{agency_octet}.{rng.randint(1, 8)}.{rng.randint(10, 250)}",
            local_ips=[],
            laptop=False,
        )
    ]
    devices[0].local_ips.append(devices[0].last_ip)
    has_laptop = service == "Direction" or rng.random() < 0.25
    if has_laptop:
        # At home behind the VPN: the server sees the VPN address, the agent
        # reports the home network's.
        devices.append(
            DevicePlan(
                public_id=_uuid(rng),
                hostname=f"{agency.code}-LT{host_number}",
                os=_pick(rng, data.OSES),
                agent_version=_pick(rng, data.AGENT_VERSIONS),
                time_zone=agency.time_zone,
                last_ip=f"10.99.{rng.randint(0, 15)}.{rng.randint(2, 254)}",
                local_ips=[f"192.168.{rng.choice((0, 1, 1, 10))}.{rng.randint(2, 254)}"],
                laptop=True,
            )
        )
    person = EmployeePlan(
        index=index,
        public_id=_uuid(rng),
        first_name=first,
        last_name=last,
        username=username,
        agency=agency,
        service=service,
        devices=devices,
        arrive=min(max(rng.gauss(505, 20), 450), 570),
        lunch=min(max(rng.gauss(725, 15), 690), 780),
        lunch_len=rng.uniform(50, 95),
        leave=min(max(rng.gauss(1050, 25), 990), 1140),
        sleeps_at_lunch=rng.uniform(0.2, 0.9),
        intensity=rng.uniform(0.6, 1.5),
        day_off=2 if rng.random() < 0.1 else None,
        remote_days=frozenset(rng.sample(range(5), rng.randint(1, 2)))
        if has_laptop
        else frozenset(),
        # The Direction people of the named agencies always are: every demo has
        # spans cut at midnight, in Fort-de-France too.
        night_owl=service == "Direction" and (index < 12 or rng.random() < 0.5),
    )
    person.vacation = _plan_vacation(rng, first_day, last_day)
    return person


def hash_code(text: str) -> int:
    """A small stable number from a string (Python's hash() is salted per process)."""
    return sum((i + 1) * ord(c) for i, c in enumerate(text))


def _plan_vacation(rng: random.Random, first_day: date, last_day: date) -> frozenset[date]:
    """Holidays (a block of days now and then) and single sick days."""
    off: set[date] = set()
    span_days = (last_day - first_day).days + 1
    for block_start in range(0, span_days, 28):
        if rng.random() < 0.3:
            begin = first_day + timedelta(days=block_start + rng.randrange(28))
            off.update(begin + timedelta(days=d) for d in range(rng.randint(3, 12)))
    for offset in range(span_days):
        if rng.random() < 0.02:
            off.add(first_day + timedelta(days=offset))
    return frozenset(off)


# --- Windows -----------------------------------------------------------------------------------

# Per app: keys per minute, clicks per minute, mean seconds per visit.
_RATES: dict[str, tuple[float, float, float]] = {
    data.OUTLOOK: (45, 6, 170),
    data.EXCEL: (55, 14, 400),
    data.WORD: (110, 5, 450),
    data.CHROME: (12, 10, 200),
    data.TEAMS: (25, 4, 150),
    data.EXPLORER: (4, 16, 40),
    data.ACROBAT: (2, 8, 150),
}

# Relative weights of window families per service.
_MIX: dict[str, dict[str, float]] = {
    "Facturation": {
        "mail": 3,
        "excel": 6,
        "word": 1,
        "intranet": 3,
        "perso": 1.2,
        "teams": 1,
        "explorer": 1,
        "pdf": 1.5,
    },
    "Logistique": {
        "mail": 2,
        "excel": 4,
        "word": 0.6,
        "intranet": 5,
        "perso": 1.5,
        "teams": 1,
        "explorer": 1,
        "pdf": 1,
    },
    "Service client": {
        "mail": 5,
        "excel": 1.5,
        "word": 2,
        "intranet": 5,
        "perso": 1.2,
        "teams": 2,
        "explorer": 0.6,
        "pdf": 0.6,
    },
    "Direction": {
        "mail": 6,
        "excel": 3,
        "word": 3,
        "intranet": 1,
        "perso": 0.6,
        "teams": 4,
        "explorer": 0.5,
        "pdf": 1,
    },
}

_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def employee_windows(
    person: EmployeePlan, rng: random.Random
) -> tuple[list[tuple[str, str]], list[float]]:
    """The (app, title) pairs this person uses and how often each is focused."""
    code = person.agency.code.lower()
    number = 10 + hash_code(person.agency.name) % 90
    families: dict[str, list[tuple[str, str]]] = {
        "mail": [
            (data.OUTLOOK, f"Boîte de réception - {person.email} - Outlook"),
            (data.OUTLOOK, f"Calendrier - {person.email} - Outlook"),
            (data.OUTLOOK, f"RE: Facture n°{rng.randint(1000, 9999)} en attente - Message (HTML)"),
            (data.OUTLOOK, "TR: Planning de la semaine - Message (HTML)"),
            (data.OUTLOOK, f"Éléments envoyés - {person.email} - Outlook"),
        ],
        "excel": [
            (data.EXCEL, f"Liste des patients agence{number} 2019 - Excel"),
            (data.EXCEL, f"Planning tournées {rng.choice(_MONTHS)} - Excel"),
            (data.EXCEL, f"Factures impayées T{rng.randint(1, 4)} {code.upper()} - Excel"),
            (data.EXCEL, "Suivi des stocks oxygène (version 12).xlsx - Excel"),
        ],
        "word": [
            (data.WORD, "Courrier de relance client.docx - Word"),
            (
                data.WORD,
                f"Compte rendu réunion du {rng.randint(1, 28)} {rng.choice(_MONTHS)} - Word",
            ),
            (data.WORD, "Procédure d'installation à domicile v3.docx - Word"),
        ],
        "intranet": [
            (data.CHROME, "Intranet OxyTrack - Google Chrome"),
            (data.CHROME, "Intranet OxyTrack \N{EN DASH} Dossiers patients - Google Chrome"),
            (data.CHROME, "Intranet OxyTrack \N{EN DASH} Planning des livraisons - Google Chrome"),
            (data.CHROME, "Ameli pro - Espace professionnel - Google Chrome"),
            (data.CHROME, "Google - Google Chrome"),
        ],
        "perso": [(data.CHROME, title) for title in rng.sample(data.NEWS_TITLES, 4)],
        "teams": [
            (data.TEAMS, "Réunion d'équipe | Microsoft Teams"),
            (data.TEAMS, f"Conversation | {person.agency.name} | Microsoft Teams"),
            (data.TEAMS, "Activité | Microsoft Teams"),
        ],
        "explorer": [
            (data.EXPLORER, "Documents"),
            (data.EXPLORER, "Téléchargements"),
            (data.EXPLORER, f"\\\\srv-fichiers\\{code}\\Commun"),
        ],
        "pdf": [
            (data.ACROBAT, f"Bon de livraison {rng.randint(10000, 99999)}.pdf - Adobe Acrobat")
        ],
    }
    windows: list[tuple[str, str]] = []
    weights: list[float] = []
    for family, mix in _MIX[person.service].items():
        members = families[family]
        for rank, pair in enumerate(members):
            windows.append(pair)
            # The first window of a family (the inbox, the main file) gets most visits.
            weights.append(mix / (rank + 1))
    return windows, weights


# --- Days --------------------------------------------------------------------------------------


class _DayWriter:
    """Lays out contiguous spans for one person, cutting at `now` and at local midnight."""

    def __init__(
        self,
        rng: random.Random,
        activity: Activity,
        weights: list[float],
        intensity: float,
        now: datetime,
    ) -> None:
        self.rng = rng
        self.activity = activity
        self.cum_weights = list(itertools.accumulate(weights))
        self.total_weight = self.cum_weights[-1]
        self.rates = [_RATES[app] for app, _ in activity.windows]
        self.intensity = intensity
        self.now = now
        self.meeting = activity.windows.index((data.TEAMS, "Réunion d'équipe | Microsoft Teams"))
        self.extra: list[int] = []  # windows to show once today (hostile titles)

    def emit(
        self,
        device: int,
        tz: ZoneInfo,
        start: datetime,
        duration_ms: int,
        day: date,
        day_end: datetime,
        window: int,
        active: bool,
        keys: int,
        clicks: int,
    ) -> bool:
        """Store one span; False once `now` is reached (nothing later may exist)."""
        room = int((self.now - start) / _MS)
        stop = False
        if duration_ms >= room:
            keys, clicks = (keys * room // duration_ms, clicks * room // duration_ms)
            duration_ms, stop = room, True
        if duration_ms < 1000:
            return not stop
        spans = self.activity.spans
        if start + duration_ms * _MS <= day_end:
            spans.append(SimSpan(device, start, duration_ms, day, window, active, keys, clicks))
        else:
            for piece in split_at_midnight(start, duration_ms, tz, keys, clicks):
                spans.append(
                    SimSpan(
                        device,
                        piece.start,
                        piece.duration_ms,
                        piece.day,
                        window,
                        active,
                        piece.keys,
                        piece.clicks,
                    )
                )
        return not stop

    def block(
        self, device: int, tz: ZoneInfo, day: date, begin: datetime, end: datetime
    ) -> int | None:
        """Fill [begin, end) with work; returns the last window (for an idle lunch)."""
        rng = self.rng
        day_end = next_local_midnight(begin, tz).astimezone(UTC)
        cursor = begin
        last: int | None = None
        windows = len(self.activity.windows)
        while cursor < end:
            if self.extra and rng.random() < 0.2:
                window = self.extra.pop()
            elif rng.random() < 0.012:
                window = self.meeting
            else:
                window = bisect.bisect(self.cum_weights, rng.random() * self.total_weight)
                window = min(window, windows - 1)
                if window == last:  # the agent merges equal neighbours: pick the next one
                    window = (window + 1) % windows
            keys_pm, clicks_pm, mean_s = self.rates[window]
            if window == self.meeting:
                seconds = rng.uniform(1500, 3600)
                keys_pm, clicks_pm = 1.5, 0.5
            else:
                seconds = 2 + rng.expovariate(1 / mean_s)
            duration_ms = int(seconds * 1000)
            remaining = int((end - cursor) / _MS)
            duration_ms = min(duration_ms, remaining)
            minutes = duration_ms / 60000 * self.intensity
            keys = int(keys_pm * minutes * rng.uniform(0.4, 1.6))
            clicks = int(clicks_pm * minutes * rng.uniform(0.4, 1.6)) + 1
            if not self.emit(
                device, tz, cursor, duration_ms, day, day_end, window, True, keys, clicks
            ):
                return None
            cursor += duration_ms * _MS
            last = window
            if rng.random() < 0.05 and cursor < end:
                # A coffee break or a colleague at the desk: idle on the same window
                # (idle starts after the 180 s threshold, so never shorter).
                idle_ms = min(int(rng.uniform(200, 900) * 1000), int((end - cursor) / _MS))
                if not self.emit(device, tz, cursor, idle_ms, day, day_end, window, False, 0, 0):
                    return None
                cursor += idle_ms * _MS
        return last

    def idle(
        self,
        device: int,
        tz: ZoneInfo,
        day: date,
        begin: datetime,
        end: datetime,
        window: int,
    ) -> bool:
        day_end = next_local_midnight(begin, tz).astimezone(UTC)
        duration_ms = int((end - begin) / _MS)
        return self.emit(device, tz, begin, duration_ms, day, day_end, window, False, 0, 0)


def _at(day: date, minutes: float, tz: ZoneInfo) -> datetime:
    """Local wall-clock time `minutes` after midnight of `day`, as UTC (whole seconds)."""
    local = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(seconds=int(minutes * 60))
    # Adding to an aware datetime moves the wall clock; only now convert.
    return local.astimezone(UTC)


def simulate_employee(
    seed: int,
    person: EmployeePlan,
    first_day: date,
    last_day: date,
    now: datetime,
) -> Activity:
    """The spans of `person` from `first_day` to `last_day` (local days), none after `now`.

    Weekends, vacation and a part-timer's day off are empty. A working day has
    a morning and an afternoon block with per-day jitter; lunch is idle time on
    the last window or no time at all (the PC sleeps); a night owl sometimes
    adds an evening session past midnight (Monday to Thursday only, so
    weekends stay empty).
    """
    rng = random.Random(f"oxytrack-demo:{seed}:employee:{person.index}")  # noqa: S311
    windows, weights = employee_windows(person, rng)
    activity = Activity(windows=list(windows))
    # Hostile titles: everyone meets one now and then; the first people show
    # each one on their first working day, so every demo has all of them.
    hostile_index: list[int] = []
    for pair in data.HOSTILE_TITLES:
        activity.windows.append(pair)
        hostile_index.append(len(activity.windows) - 1)
    writer = _DayWriter(rng, activity, weights, person.intensity, now)
    owed = [hostile_index[person.index]] if person.index < len(hostile_index) else []
    tz = ZoneInfo(person.agency.time_zone)
    day = first_day
    # Stop at the first local day that has not begun yet.
    while day <= last_day and _at(day, 0, tz) < now:
        weekday = day.weekday()
        if weekday < 5 and day not in person.vacation and weekday != person.day_off:
            writer.extra = owed + ([rng.choice(hostile_index)] if rng.random() < 0.01 else [])
            if not _work_day(writer, rng, person, tz, day):
                break  # `now` reached: nothing later may exist
            owed = writer.extra  # what this day did not get to show
        day += timedelta(days=1)
    return activity


def _work_day(
    writer: _DayWriter, rng: random.Random, person: EmployeePlan, tz: ZoneInfo, day: date
) -> bool:
    """One working day; False if `now` cut it short."""
    device = 1 if len(person.devices) > 1 and day.weekday() in person.remote_days else 0
    arrive = person.arrive + rng.gauss(0, 8)
    lunch = person.lunch + rng.gauss(0, 10)
    back = lunch + person.lunch_len + rng.gauss(0, 8)
    leave = person.leave + rng.gauss(0, 15)
    if day.weekday() == 4:
        leave -= rng.uniform(0, 60)  # Friday afternoons are shorter
    morning = writer.block(device, tz, day, _at(day, arrive, tz), _at(day, lunch, tz))
    if morning is None:
        return False
    if rng.random() >= person.sleeps_at_lunch and not writer.idle(
        device, tz, day, _at(day, lunch, tz), _at(day, back, tz), morning
    ):
        return False
    afternoon = writer.block(device, tz, day, _at(day, back, tz), _at(day, leave, tz))
    if afternoon is None:
        return False
    if rng.random() < 0.3 and not writer.idle(
        device, tz, day, _at(day, leave, tz), _at(day, leave + rng.uniform(5, 40), tz), afternoon
    ):
        return False
    if person.night_owl and day.weekday() < 4 and rng.random() < 0.25:
        # Mails late at night on the laptop, crossing midnight.
        late = len(person.devices) - 1
        begin = 22 * 60 + rng.uniform(0, 90)
        end = 24 * 60 + rng.uniform(10, 50)
        if writer.block(late, tz, day, _at(day, begin, tz), _at(day, end, tz)) is None:
            return False
    return True
