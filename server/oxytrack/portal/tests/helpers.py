"""What the portal tests share: asking for a link as the agent does, uploading spans,
reading a rendered table back."""

from __future__ import annotations

import html
import io
import re
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from django.test import Client
from openpyxl import load_workbook

from oxytrack.ingest.tests.payloads import BASE, batch, post_batch, span


def ask_link(client: Client, token: str) -> Any:
    """POST portal-link with the device token, as `oxytrack-agent portal` does."""
    return client.post(f"{BASE}/portal-link", headers={"Authorization": f"Bearer {token}"})


def open_portal(token: str) -> Client:
    """A fresh browser (client) whose portal session the agent's link opened."""
    browser = Client()
    reply = ask_link(Client(), token)
    assert reply.status_code == 201, reply.content
    entered = browser.get(reply.json()["path"])
    assert entered.status_code == 302
    assert entered["Location"] == "/portal/"
    return browser


def upload(token: str, spans: list[tuple[datetime, float, str, str, bool]]) -> None:
    """Store (start, seconds, app, title, active) spans through the agent API."""
    payload = batch([span(s, d, app=a, title=t, active=act) for s, d, a, t, act in spans])
    reply = post_batch(Client(), token, payload)
    assert reply.status_code == 200, reply.content


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.in_body = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append([])
        elif tag == "td" and self.in_body:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_rows(page: str, dom_id: str) -> list[list[str]]:
    """The text of each cell of the body of the table drawn in `#<dom_id>-body`."""
    start = page.index(f'id="{dom_id}-body"')
    end = page.index("</table>", start)
    parser = _Rows()
    parser.feed(page[start:end])
    return parser.rows


def text_of(page: str, element_id: str) -> str:
    """The text of the element with that id (no nested markup expected)."""
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page)
    assert match, element_id
    return html.unescape(match.group(1)).strip()


def xlsx_rows(response: Any) -> list[list[Any]]:
    """The rows of a downloaded workbook's only sheet, as openpyxl reads them back
    (empty cells as None, an empty row as [])."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    book = load_workbook(io.BytesIO(content), read_only=True)
    (sheet,) = book.worksheets
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows
