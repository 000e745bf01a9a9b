"""This machine's time zone: read from the /etc/localtime link on Linux, else by tzlocal.

On a systemd system (`timedatectl set-timezone`) /etc/localtime is a link
into the zoneinfo tree, and the link is what the C library itself reads when
TZ is unset. tzlocal finds the same zone, but by trying each suffix of the
link's target as a zone name, which for each failed try imports
importlib.resources and tempfile (with shutil, bz2, lzma, random) to look for
the tzdata package: ~0.6 MiB of the always-running agent's memory.
"""

from __future__ import annotations

import os
import sys
import zoneinfo
from collections.abc import Sequence
from datetime import tzinfo


def linked_zone(
    localtime: str = "/etc/localtime", tzpath: Sequence[str] | None = None
) -> str | None:
    """The zone name `localtime` links to inside a zoneinfo directory, or None.

    None too when TZ is set (it wins over /etc/localtime) or outside Linux.
    """
    if not sys.platform.startswith("linux") or os.environ.get("TZ"):
        return None
    if not os.path.islink(localtime):
        return None
    target = os.path.realpath(localtime)
    for base in tzpath if tzpath is not None else zoneinfo.TZPATH:
        base = os.path.realpath(base)
        if target.startswith(base + os.sep) and os.path.isfile(target):
            return target[len(base) + 1 :]
    return None


def local_zone() -> tzinfo:
    """This machine's time zone as a tzinfo."""
    name = linked_zone()
    if name is not None:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    import tzlocal

    return tzlocal.get_localzone()


def local_zone_name() -> str:
    """This machine's IANA time zone name (e.g. Europe/Paris), "UTC" if unknown."""
    name = linked_zone()
    if name is not None:
        return name
    import tzlocal

    try:
        return str(tzlocal.get_localzone_name() or "UTC")
    except Exception:
        # A broken /etc/localtime must not block enrollment: the server falls
        # back to its own zone, which is what UTC-less would mean anyway.
        return "UTC"
