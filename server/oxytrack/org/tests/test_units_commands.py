"""`oxytrack agencies|services list|add|rename|import`: setting up a fresh server.

The import is the path of a real first day: a super-admin exports 70 agencies
from a spreadsheet (French Excel: UTF-8 with BOM, `;`), imports them, and the
installers' silent enrollments then find them.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from oxytrack.audit.models import Action, Entry
from oxytrack.org.actions import get_enrollment_key
from oxytrack.org.models import Agency, Employee, Service

pytestmark = pytest.mark.django_db

ZONES = ["Europe/Paris", "America/Martinique", "Indian/Reunion", "Pacific/Noumea"]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as info:
        run(*args)
    return str(info.value)


def write(tmp_path: Path, text: str, *, bom: bool = False, name: str = "org.csv") -> str:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return str(path)


def seventy_agencies() -> str:
    # As French Excel saves "CSV UTF-8": `;`, CRLF, accents, a trailing blank row.
    rows = [f"Agence {n:02d} Saint-Étienne;{ZONES[n % 4]}" for n in range(1, 71)]
    return "nom;fuseau horaire\r\n" + "\r\n".join(rows) + "\r\n;\r\n"


def state() -> list[tuple[str, str]]:
    return list(Agency.objects.values_list("name", "time_zone"))


def test_importing_70_agencies_twice_gives_70_and_changes_nothing_the_second_time(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, seventy_agencies(), bom=True)
    assert run("agencies", "import", path).endswith("agencies: 70 created, 0 updated, 0 unchanged.")
    assert Agency.objects.count() == 70
    first = state()
    assert ("Agence 01 Saint-Étienne", "America/Martinique") in first
    # The BOM is not part of the first name.
    assert not any(name.startswith("\ufeff") for name, _ in first)
    audited = Entry.objects.filter(action=Action.CHANGE_ORG).count()
    assert audited == 70

    assert run("agencies", "import", path).endswith("agencies: 0 created, 0 updated, 70 unchanged.")
    assert state() == first
    assert Entry.objects.count() == audited


def test_a_comma_file_without_bom_with_quotes_and_english_header(tmp_path: Path) -> None:
    path = write(tmp_path, 'name,time_zone\n"Nice, port",europe/paris\nLyon,\n')
    assert run("agencies", "import", path).endswith("2 created, 0 updated, 0 unchanged.")
    # The zone is stored in its canonical spelling; an empty cell is the default.
    assert state() == [("Lyon", "Europe/Paris"), ("Nice, port", "Europe/Paris")]


def test_a_changed_time_zone_is_an_update_and_names_match_in_any_case(tmp_path: Path) -> None:
    Agency.objects.create(name="Fort-de-France", time_zone="Europe/Paris")
    Agency.objects.create(name="Nice", time_zone="Europe/Paris")
    path = write(tmp_path, "name;time_zone\nFORT-DE-FRANCE;America/Martinique\nnice;\n")
    assert run("agencies", "import", path).endswith("0 created, 1 updated, 1 unchanged.")
    # The existing spelling stays; no empty cell erases a zone.
    assert state() == [("Fort-de-France", "America/Martinique"), ("Nice", "Europe/Paris")]
    entry = Entry.objects.get()
    assert entry.detail["time_zone"] == {"from": "Europe/Paris", "to": "America/Martinique"}
    assert entry.actor is None and entry.actor_label == "système"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("Nice;Europe/Paris\nLyon;Europe/Pariss\n", "line 4: unknown time zone 'Europe/Pariss'"),
        ("Nice;Europe/Paris\n  ;Europe/Paris\n", "line 4: empty name"),
        (
            "Nice;Europe/Paris\nLyon;Europe/Paris\nNICE;America/Martinique\n",
            "line 5: agency 'NICE' is already on line 3",
        ),
        ("Nice;Europe/Paris\nLyon;Europe/Paris;extra\n", "line 4: 3 cells, the header has 2"),
        (
            "Nice;Europe/Paris\nLy\u202eon;Europe/Paris\n",
            "line 4: name 'Ly\\u202eon' contains control or invisible characters",
        ),
        ("Nice;Europe/Paris\n" + "x" * 101 + ";Europe/Paris\n", "line 4: name longer than 100"),
    ],
)
def test_a_bad_row_names_its_line_and_nothing_is_written(
    tmp_path: Path, rows: str, message: str
) -> None:
    Agency.objects.create(name="Marseille", time_zone="Europe/Paris")
    # Line 1 is the header; the good rows before the bad one would change an
    # existing agency (line 2) and create one (line 3).
    path = write(tmp_path, "nom;fuseau horaire\nMarseille;UTC\n" + rows)
    before, entries = state(), Entry.objects.count()
    error = refused("agencies", "import", path)
    assert "nothing imported, 1 bad row:" in error
    assert message in error
    assert state() == before
    assert Entry.objects.count() == entries


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "name;time_zone\n;UTC\nA;Nowhere/Land\nB;UTC\n")
    error = refused("agencies", "import", path)
    assert "2 bad rows" in error
    assert "line 2: empty name" in error and "line 3: unknown time zone" in error
    assert not Agency.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Nice;Europe/Paris\n", "line 1: unknown column 'Nice'"),
        (b"name;zone horaire\nNice;UTC\n", "line 1: unknown column 'zone horaire'"),
        (b"", "line 1: the file is empty"),
        ("name\nNice\nMontb\xe9liard\n".encode("cp1252"), "line 3: the file is not UTF-8"),
        (b'name\n"Nice\n', "not valid CSV"),
    ],
)
def test_a_bad_file_is_refused_with_its_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert message in refused("agencies", "import", str(path))
    assert not Agency.objects.exists()


def test_an_agencies_file_is_not_taken_for_services(tmp_path: Path) -> None:
    path = write(tmp_path, "nom;fuseau horaire\nNice;Europe/Paris\n")
    assert "unknown column 'fuseau horaire'" in refused("services", "import", path)
    assert not Service.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    assert "cannot read" in refused("agencies", "import", str(tmp_path / "nope.csv"))


def test_dry_run_counts_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, seventy_agencies())
    output = run("agencies", "import", "--dry-run", path)
    assert "70 created, 0 updated, 0 unchanged (dry run: nothing written)." in output
    assert not Agency.objects.exists()
    assert not Entry.objects.exists()


def test_import_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO("\ufeffservice\nFacturation\nLogistique\n".encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert run("services", "import", "-") == "-: services: 2 created, 0 updated, 0 unchanged."
    assert list(Service.objects.values_list("name", flat=True)) == ["Facturation", "Logistique"]


def test_services_import_is_idempotent_and_all_or_nothing(tmp_path: Path) -> None:
    Service.objects.create(name="Facturation")
    good = write(tmp_path, "nom\nfacturation\nLogistique\nAccueil\n")
    assert run("services", "import", good).endswith("2 created, 0 updated, 1 unchanged.")
    assert run("services", "import", good).endswith("0 created, 0 updated, 3 unchanged.")
    bad = write(tmp_path, "nom\nRH\nAccueil\naccueil\n", name="bad.csv")
    assert "line 4: service 'accueil' is already on line 3" in refused("services", "import", bad)
    assert sorted(Service.objects.values_list("name", flat=True)) == [
        "Accueil",
        "Facturation",
        "Logistique",
    ]


def test_list_prints_names_zones_and_employee_counts() -> None:
    assert run("agencies", "list").startswith("No agency yet. Create them with")
    assert "oxytrack services import" in run("services", "list")
    nice = Agency.objects.create(name="Nice", time_zone="Europe/Paris")
    Agency.objects.create(name="Fort-de-France", time_zone="America/Martinique")
    facturation = Service.objects.create(name="Facturation")
    Employee.objects.create(username="a", agency=nice, service=facturation)
    Employee.objects.create(username="b", agency=nice)
    assert run("agencies", "list").splitlines() == [
        "name            time_zone           employees",
        "Fort-de-France  America/Martinique  0",
        "Nice            Europe/Paris        2",
    ]
    assert run("services", "list").splitlines() == ["name         employees", "Facturation  1"]


def test_list_csv_reads_back_as_an_import_that_changes_nothing(tmp_path: Path) -> None:
    Agency.objects.create(name='Nice; "centre"', time_zone="Europe/Paris")
    Agency.objects.create(name="Fort-de-France", time_zone="America/Martinique")
    exported = run("agencies", "list", "--csv")
    assert exported.splitlines()[0] == "name,time_zone"
    path = write(tmp_path, exported)
    assert run("agencies", "import", path).endswith("0 created, 0 updated, 2 unchanged.")


def test_add_validates_the_name_and_the_time_zone() -> None:
    assert run("agencies", "add", " Fort-de-France ", "--time-zone", "america/martinique") == (
        "Agency 'Fort-de-France' created (America/Martinique)."
    )
    assert run("agencies", "add", "Nice") == "Agency 'Nice' created (Europe/Paris)."
    assert "already exists" in refused("agencies", "add", "NICE")
    assert "unknown time zone" in refused("agencies", "add", "Lyon", "--time-zone", "Lyon")
    assert "empty name" in refused("agencies", "add", "  ")
    assert run("services", "add", "Facturation") == "Service 'Facturation' created."
    assert "already exists" in refused("services", "add", "facturation")
    assert state() == [("Fort-de-France", "America/Martinique"), ("Nice", "Europe/Paris")]
    assert Entry.objects.filter(action=Action.CHANGE_ORG).count() == 3


def test_rename_keeps_employees_and_is_audited() -> None:
    nice = Agency.objects.create(name="Nice", time_zone="Europe/Paris")
    Agency.objects.create(name="Marseille", time_zone="Europe/Paris")
    employee = Employee.objects.create(username="jdupont", agency=nice)
    assert run("agencies", "rename", "nice", "Nice Côte d'Azur") == (
        "Agency 'Nice' renamed \"Nice Côte d'Azur\"."
    )
    employee.refresh_from_db()
    assert employee.agency is not None and employee.agency.name == "Nice Côte d'Azur"
    entry = Entry.objects.get()
    assert entry.detail == {"renamed": "agency", "from": "Nice", "to": "Nice Côte d'Azur"}
    assert entry.actor_label == "système"

    assert "already exists" in refused("agencies", "rename", "Nice Côte d'Azur", "MARSEILLE")
    assert "no agency is named 'Lyon'" in refused("agencies", "rename", "Lyon", "Lille")
    # A change of case alone is a rename of the same agency.
    run("agencies", "rename", "marseille", "MARSEILLE")
    assert sorted(Agency.objects.values_list("name", flat=True)) == [
        "MARSEILLE",
        "Nice Côte d'Azur",
    ]
    Service.objects.create(name="Factu")
    assert run("services", "rename", "factu", "Facturation") == (
        "Service 'Factu' renamed 'Facturation'."
    )


def test_a_subcommand_is_required() -> None:
    with pytest.raises(CommandError, match="SUBCOMMAND"):
        run("agencies")


def enroll(client: Client, **fields: str) -> tuple[int, dict[str, str]]:
    body = {
        "username": "jdupont",
        "domain": "CORP",
        "hostname": "PC-NICE-42",
        "os": "Windows 11",
        "agent_version": "0.1.0",
        "time_zone": "Europe/Paris",
        **fields,
    }
    response = client.post(
        "/api/agent/v1/enroll",
        json.dumps(body),
        content_type="application/json",
        headers={"X-Enrollment-Key": get_enrollment_key()},
    )
    return response.status_code, response.json()


def test_enrolling_on_an_empty_server_says_which_command_creates_agencies(
    client: Client, tmp_path: Path
) -> None:
    status, reply = enroll(client, agency="Nice", service="Facturation")
    assert status == 422
    assert reply["code"] == "unknown_agency"
    assert "Agence inconnue « Nice »" in reply["message"]
    assert "oxytrack agencies import" in reply["message"]
    assert "Agences possibles : ." not in reply["message"]
    assert not Employee.objects.exists()

    # The super-admin follows the message; the same silent install now works,
    # except for the services, which the next message names the same way.
    run("agencies", "import", write(tmp_path, "nom;fuseau horaire\nNice;Europe/Paris\n"))
    status, reply = enroll(client, agency="Nice", service="Facturation")
    assert (status, reply["code"]) == (422, "unknown_service")
    assert "oxytrack services import" in reply["message"]
    run("services", "add", "Facturation")
    status, reply = enroll(client, agency="nice", service="Facturation")
    assert status == 201, reply
    employee = Employee.objects.get()
    assert (str(employee.agency), str(employee.service)) == ("Nice", "Facturation")


def test_a_wrong_name_on_a_set_up_server_still_lists_the_valid_ones(client: Client) -> None:
    Agency.objects.create(name="Nice", time_zone="Europe/Paris")
    status, reply = enroll(client, agency="Nise")
    assert status == 422
    assert "Agences possibles : Nice." in reply["message"]
