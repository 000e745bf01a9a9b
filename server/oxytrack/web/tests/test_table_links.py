"""Every link a table draws carries the state it was drawn with."""

from __future__ import annotations

import html
import re
from datetime import datetime, time, timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.conftest import EnrolledDevice, Org

LINK = re.compile(r'<a href="([^"]+)"[^>]*hx-get="[^"]+"[^>]*>([^<]+)</a>')


def _many_titles(device: EnrolledDevice, count: int) -> None:
    # 08:00 on the local today, the day the pages default to.
    start = datetime.combine(timezone.localdate(), time(8), tzinfo=timezone.get_current_timezone())
    raw = [
        RawSpan(start + timedelta(minutes=i), 30_000, "EXCEL.EXE", f"Classeur {i:02d}")
        for i in range(count)
    ]
    add_to_rollups(store_spans(device.device, raw))


def _links(body: str) -> dict[str, str]:
    return {html.unescape(text).strip(): html.unescape(href) for href, text in LINK.findall(body)}


def test_the_titles_pager_of_a_fresh_detail_page_keeps_the_range(
    client: Client, superadmin: User, org: Org, enrolled_device: EnrolledDevice
) -> None:
    _many_titles(enrolled_device, 30)
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    # First load: no range in the address, the page picks the last 7 days.
    page = client.get(reverse("dashboard:employee", args=[employee.public_id]))
    links = _links(page.content.decode())
    today = timezone.localdate()
    for label in ("Suivant", "2"):
        assert f"start={(today - timedelta(days=6)).isoformat()}" in links[label]
        assert f"end={today.isoformat()}" in links[label]
        following = client.get(links[label], HTTP_HX_REQUEST="true", HTTP_HX_TARGET="titles-body")
        assert following.status_code == 200
        body = following.content.decode()
        assert "Affichage de 26 à 30 sur 30 éléments" in body
        assert "obligatoire" not in body


def test_sorting_and_paging_links_keep_filter_size_and_sort(
    client: Client, superadmin: User, org: Org, enrolled_device: EnrolledDevice
) -> None:
    _many_titles(enrolled_device, 30)
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    today = timezone.localdate().isoformat()
    url = reverse("dashboard:employee_titles", args=[employee.public_id])
    body = client.get(
        url, {"start": today, "end": today, "q": "classeur", "per_page": "10", "sort": "-active"}
    ).content.decode()
    links = _links(body)
    for label in ("Suivant", "2", "3"):
        for part in (f"start={today}", f"end={today}", "q=classeur", "per_page=10", "sort=-active"):
            assert part in links[label], (label, links[label])
    header = links["Titre"]
    assert "q=classeur" in header and "per_page=10" in header and f"start={today}" in header
    assert "page=1" in header
