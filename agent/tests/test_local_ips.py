"""This PC's addresses sent with each batch, as psutil sees them.

On Linux they are read without psutil (test_local_ips_linux.py has that reader's own tests).
"""

from __future__ import annotations

import socket

import psutil

from oxytrack_agent.enroll import local_ips


def psutil_view() -> set[str]:
    """What psutil (the other platforms' source) sees, with the same filter."""
    return {
        a.address.split("%", 1)[0]
        for addresses in psutil.net_if_addrs().values()
        for a in addresses
        if a.family in (socket.AF_INET, socket.AF_INET6)
        and not a.address.startswith(("127.", "::1", "fe80"))
    }


def test_the_addresses_are_those_psutil_sees_without_loopback_or_link_local() -> None:
    found = local_ips()
    assert found, "this PC has a network address"
    assert len(found) == len(set(found))
    assert set(found) == psutil_view()
