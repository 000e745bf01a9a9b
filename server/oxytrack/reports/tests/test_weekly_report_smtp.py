"""The weekly e-mail over real SMTP: the command talks to an aiosmtpd server on
127.0.0.1 and each message is read back from the bytes that server received.

test_weekly_report.py reads Django's locmem outbox, which never serialises a
message for the wire; here the MIME tree, its encodings and its headers go
through smtplib and an SMTP server that, like many relays, does not offer
SMTPUTF8 (non-ASCII headers must then be encoded words). Figures come from the
`fortnight` fixture (hand-computed in conftest.py).
"""

from __future__ import annotations

import csv
import email
import io
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from email.utils import getaddresses
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.core import mail
from django.core.management import call_command
from PIL import Image

from oxytrack.accounts.models import User
from oxytrack.reports.models import SentReport

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FROM = "Équipe OxyTrack <rapports@example.com>"
SUBJECT = "OxyTrack : rapport de la semaine 2026-W47 (du 16/11/2026 au 22/11/2026)"
#: The CSV's columns before the categories', in the report's language (French).
FIXED_COLUMNS = [
    "Agence",
    "Service",
    "Utilisateurs",
    "Utilisateurs actifs",
    "Jours travaillés",
    "Temps actif (min)",
    "Moyenne par jour travaillé (min)",
    "Temps actif de la semaine précédente (min)",
    "Évolution (%)",
]


@dataclass(frozen=True)
class Received:
    """One message as the SMTP server got it: envelope and raw bytes."""

    mail_from: str
    #: MAIL FROM's parameters (BODY=8BITMIME, SMTPUTF8) the client declared.
    mail_options: list[str]
    rcpt_tos: list[str]
    data: bytes


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)  # decode_data=False: the bytes as sent
        self.messages.append(
            Received(
                str(envelope.mail_from),
                list(envelope.mail_options),
                list(envelope.rcpt_tos),
                envelope.content,
            )
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    # aiosmtpd's Controller cannot take port 0 (it connects to its own port to
    # check that it is up), so ask the kernel for a free one and hand it over.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_inbox(request: pytest.FixtureRequest, settings: Any) -> Inbox:
    inbox = Inbox()
    # server_hostname: otherwise the greeting waits for a reverse DNS lookup.
    controller = Controller(
        inbox, hostname="127.0.0.1", port=_free_port(), server_hostname="smtp.test"
    )
    controller.start()
    request.addfinalizer(controller.stop)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    # A sender name with an accent, as a French site would set it: a header
    # that cannot travel as plain ASCII.
    settings.DEFAULT_FROM_EMAIL = FROM
    return inbox


class Seen:
    """A received message as a mail client shows it."""

    def __init__(self, received: Received) -> None:
        self.received = received
        head, _sep, _body = received.data.partition(b"\r\n\r\n")
        self.raw_headers = head
        parsed = email.message_from_bytes(received.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.message = parsed
        self.parts = list(parsed.walk())
        by_type: dict[str, list[EmailMessage]] = {}
        for part in self.parts:
            assert isinstance(part, EmailMessage)
            by_type.setdefault(part.get_content_type(), []).append(part)
        self.by_type = by_type

    def one(self, content_type: str) -> EmailMessage:
        [part] = self.by_type[content_type]
        return part

    @property
    def to(self) -> list[str]:
        return [address for _name, address in getaddresses(self.message.get_all("To", []))]

    @property
    def text(self) -> str:
        return str(self.one("text/plain").get_content())

    @property
    def html(self) -> str:
        return str(self.one("text/html").get_content())

    def csv_rows(self) -> tuple[list[str], list[dict[str, str]]]:
        part = self.one("text/csv")
        text = part.get_content()
        assert isinstance(text, str)
        assert text.startswith("\ufeff"), "the BOM Excel needs to read UTF-8"
        reader = csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=";")
        rows = list(reader)
        assert reader.fieldnames is not None
        return list(reader.fieldnames), rows


def _send_week_47() -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("send_weekly_report", "--week", "2026-W47", stdout=out, stderr=err)
    assert err.getvalue() == ""
    return out.getvalue()


@pytest.fixture
def received(managers: dict[str, User], smtp_inbox: Inbox) -> dict[str, Seen]:
    """Week 47 sent by the command, by recipient.

    smtplib's send returns after the server's reply to DATA, which aiosmtpd
    gives once handle_DATA has returned: when the command is done, every
    message is in the inbox, no waiting needed.
    """
    output = _send_week_47()
    assert "4 sent, 2 skipped, 0 failed." in output
    assert mail.outbox == []  # the real backend, not locmem
    seen = [Seen(r) for r in smtp_inbox.messages]
    by_recipient = {s.to[0]: s for s in seen}
    assert len(by_recipient) == len(seen), "one message per manager"
    return by_recipient


def test_each_manager_gets_one_message_addressed_to_them_only(
    received: dict[str, Seen], managers: dict[str, User]
) -> None:
    # The dpo, the inactive admin, the opted-out one and the one without
    # employees get nothing.
    assert sorted(received) == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "super@example.com",
    ]
    for address, seen in received.items():
        assert seen.received.rcpt_tos == [address]
        assert seen.to == [address]
        assert seen.received.mail_from == "rapports@example.com"
        assert seen.message["Cc"] is None and seen.message["Bcc"] is None
        assert seen.message["Date"] is not None
    message_ids = {s.message["Message-ID"] for s in received.values()}
    assert len(message_ids) == 4 and None not in message_ids
    assert set(SentReport.objects.values_list("user__email", flat=True)) == set(received)


def test_the_message_is_7_bit_clean_on_the_wire(received: dict[str, Seen]) -> None:
    for seen in received.values():
        # Django's backend declares no BODY=8BITMIME (nor SMTPUTF8, which this
        # server does not offer): any 8-bit byte (the CSV's BOM and accents, once)
        # breaks RFC 6152, and a relay without 8BITMIME may refuse or mangle it.
        declared = {option.split("=")[0].upper() for option in seen.received.mail_options}
        assert not declared & {"BODY", "SMTPUTF8"}, declared
        assert seen.received.data.isascii(), "8-bit bytes on the wire"
        assert max(len(line) for line in seen.received.data.split(b"\r\n")) <= 998


def test_headers_travel_encoded_and_read_back_with_their_accents(
    received: dict[str, Seen],
) -> None:
    for seen in received.values():
        # Encoded words: the accents of the sender's name, in ASCII.
        assert b"From: =?utf-8?" in seen.raw_headers
        assert str(seen.message["From"]) == FROM
        assert seen.message["From"].addresses[0].display_name == "Équipe OxyTrack"
        assert str(seen.message["Subject"]) == SUBJECT


def test_the_mime_tree_shows_the_chart_inline_and_attaches_the_csv(
    received: dict[str, Seen],
) -> None:
    for seen in received.values():
        assert [p.get_content_type() for p in seen.parts] == [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/png",
            "text/csv",
        ]
        related = seen.one("multipart/related")
        html_part, image = related.iter_parts()
        assert html_part.get_content_type() == "text/html"
        # The HTML shows the image by the Content-ID of its sibling part.
        content_id = image["Content-ID"]
        assert content_id.startswith("<") and content_id.endswith(">")
        cid = content_id[1:-1]
        assert f'<img src="cid:{cid}"' in seen.html
        assert seen.html.count("cid:") == 1
        assert image.get_content_disposition() == "inline"
        assert image.get_filename() == "2026-W47.png"
        png = image.get_content()
        assert isinstance(png, bytes) and png.startswith(PNG_SIGNATURE)
        picture = Image.open(io.BytesIO(png))
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] > 400
        csv_part = seen.one("text/csv")
        assert csv_part.get_content_disposition() == "attachment"
        assert csv_part.get_filename() == "oxytrack-rapport-2026-W47.csv"
        assert csv_part.get_content_charset() == "utf-8"


def test_the_bodies_carry_the_week_s_figures_with_their_accents(
    received: dict[str, Seen],
) -> None:
    alice = received["alice@example.com"]
    for body in (alice.text, alice.html):
        assert "Nice / Facturation" in body
        assert "du 16/11/2026 au 22/11/2026" in body
        assert "Temps actif de vos équipes" in body
        assert "comparé à la semaine précédente" in body
        assert "4 h 00 min" in body  # 2 h Word + 1 h Outlook + 1 h unknown
        assert "2 h 00 min" in body  # 4 h over 2 worked days; also W46
        assert "+100,0\xa0%" in body  # 4 h against 2 h
        assert "Bureautique" in body and "50,0\xa0%" in body
        assert "Non classé" in body and "25,0\xa0%" in body
        assert "il ne classe ni ne note personne" in body
        for elsewhere in ("Logistique", "Fort-de-France", "Marseille", "Zoé"):
            assert elsewhere not in body
    assert "Moyenne par jour travaillé : 2 h 00 min" in alice.text
    assert "Équipe" in alice.html and "Évolution" in alice.html
    carol = received["carol@example.com"]
    assert "Fort-de-France / Facturation" in carol.text
    assert "\u221275,0\xa0%" in carol.text  # 1 h against 4 h, a real minus sign
    assert "Nice" not in carol.text and "Nice" not in carol.html


#: An expected CSV row: the team, its figures, and (minutes, %) of the categories
#: it used; every other category is 0.
Row = tuple[tuple[str, str], list[str], dict[str, tuple[str, str]]]


def _check_rows(seen: Seen, expected: list[Row]) -> None:
    header, rows = seen.csv_rows()
    assert header[: len(FIXED_COLUMNS)] == FIXED_COLUMNS
    categories = [c.removesuffix(" (min)") for c in header[len(FIXED_COLUMNS) :: 2]]
    assert header[len(FIXED_COLUMNS) :] == [
        column for name in categories for column in (f"{name} (min)", f"{name} (%)")
    ]
    assert categories[-1] == "Non classé"
    assert {"Bureautique", "Messagerie", "Réunions"} <= set(categories)
    assert len(rows) == len(expected)
    for row, (team, figures, shares) in zip(rows, expected, strict=True):
        assert (row["Agence"], row["Service"]) == team
        assert [row[c] for c in FIXED_COLUMNS[2:]] == figures, team
        for name in categories:
            minutes, percent = shares.get(name, ("0", "0,0"))
            assert (row[f"{name} (min)"], row[f"{name} (%)"]) == (minutes, percent), (team, name)


def test_each_csv_holds_the_recipient_s_teams_and_their_figures(
    received: dict[str, Seen],
) -> None:
    # Columns after the team: users, active users, worked days, active minutes,
    # minutes per worked day, the previous week's minutes, change in %.
    nice_facturation: Row = (
        ("Nice", "Facturation"),
        # nice_facturation and Zoé; Monday 3 h and Tuesday 1 h; W46 2 h.
        ["2", "1", "2", "240", "120", "120", "100,0"],
        {
            "Bureautique": ("120", "50,0"),
            "Messagerie": ("60", "25,0"),
            "Non classé": ("60", "25,0"),
        },
    )
    nice_logistique: Row = (
        ("Nice", "Logistique"),
        # Wednesday 3 h of Word; nothing in W46, so no change.
        ["1", "1", "1", "180", "180", "0", ""],
        {"Bureautique": ("180", "100,0")},
    )
    nice_no_service: Row = (
        ("Nice", "Sans service"),
        # An employee who did nothing: no average, no change.
        ["1", "0", "0", "0", "", "0", ""],
        {},
    )
    fdf_facturation: Row = (
        ("Fort-de-France", "Facturation"),
        # Thursday 1 h of Outlook; W46 4 h: -75 %.
        ["1", "1", "1", "60", "60", "240", "-75,0"],
        {"Messagerie": ("60", "100,0")},
    )
    _check_rows(received["alice@example.com"], [nice_facturation])
    _check_rows(received["bob@example.com"], [nice_facturation, nice_logistique, nice_no_service])
    _check_rows(received["carol@example.com"], [fdf_facturation])
    # The super-admin: every team, in French order, those without an agency last.
    _header, rows = received["super@example.com"].csv_rows()
    assert [(r["Agence"], r["Service"], r["Temps actif (min)"]) for r in rows] == [
        ("Fort-de-France", "Facturation", "60"),
        ("Fort-de-France", "Logistique", "0"),
        ("Marseille", "Facturation", "0"),
        ("Marseille", "Logistique", "0"),
        ("Nice", "Facturation", "240"),
        ("Nice", "Logistique", "180"),
        ("Nice", "Sans service", "0"),
        ("Sans agence", "Sans service", "0"),
    ]


def test_a_second_run_sends_nothing_over_the_wire(
    received: dict[str, Seen], smtp_inbox: Inbox
) -> None:
    assert "0 sent, 6 skipped, 0 failed." in _send_week_47()
    assert len(smtp_inbox.messages) == 4
