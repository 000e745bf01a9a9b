"""Linux's own address reader (SIOCGIFCONF, /proc/net/if_inet6), in network namespaces.

Collected on Linux only (conftest.py's `collect_ignore`): elsewhere psutil reads them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys


def in_network_namespace(setup: str, code: str) -> list[str]:
    """Run `code` (prints JSON) in a network namespace of its own, after `setup` (ip commands)."""
    assert shutil.which("unshare") and shutil.which("ip")
    done = subprocess.run(
        ["unshare", "--net", "sh", "-ec", f'{setup}\nexec "$0" -c "$1"', sys.executable, code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: list[str] = json.loads(done.stdout)
    return result


def test_every_address_of_an_interface_is_listed_even_past_the_first_buffer() -> None:
    # 100 IPv4 addresses on one interface (more than the first ioctl buffer holds).
    setup = "ip link set lo up\n" + "".join(
        f"ip addr add 198.51.100.{n}/32 dev lo\n" for n in range(1, 101)
    )
    setup += "ip addr add 2001:db8::5/128 dev lo\n"
    code = (
        "import json\n"
        "from oxytrack_agent.enroll import _linux_addresses, local_ips\n"
        "print(json.dumps([_linux_addresses(), local_ips()]))"
    )
    everything, sent = in_network_namespace(setup, code)
    assert sorted(everything) == sorted(
        ["127.0.0.1", "::1", "2001:db8::5", *(f"198.51.100.{n}" for n in range(1, 101))]
    )
    # Loopback never, at most 32 sent.
    assert sent == [f"198.51.100.{n}" for n in range(1, 33)]


def test_no_address_at_all_is_an_empty_list() -> None:
    code = "import json\nfrom oxytrack_agent import enroll\nprint(json.dumps(enroll.local_ips()))"
    assert in_network_namespace("ip link set lo up", code) == []
