"""User-only access to the device token on Windows (icacls), built from pure parts.

On POSIX the token file is created 0600 (config.save_token). On Windows a file
in %LOCALAPPDATA% inherits the profile's ACL: the user, SYSTEM and the
Administrators group. The token is the employee's identity towards the server,
so its file keeps one entry, the user's own, and no inherited ones.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

_SID = re.compile(r"^S-1-\d+(-\d+)+$")


def sid_from_whoami(output: str) -> str:
    """The SID in `whoami /user /fo csv /nh` output: '"pc\\jean","S-1-5-21-…"'."""
    for row in csv.reader(io.StringIO(output.strip())):
        if len(row) >= 2 and _SID.match(row[-1].strip()):
            return row[-1].strip()
    raise ValueError(f"no SID in whoami output: {output!r}")


def icacls_command(path: Path, sid: str) -> list[str]:
    """icacls arguments leaving `path` readable and writable by `sid` only.

    `/inheritance:r` drops the inherited entries (SYSTEM, Administrators);
    `/grant:r` replaces any explicit entry of the user with full control.
    The `*` prefix names the account by SID: no name lookup, no locale.
    """
    if not _SID.match(sid):
        raise ValueError(f"not a SID: {sid!r}")
    return ["icacls", str(path), "/inheritance:r", "/grant:r", f"*{sid}:(F)", "/q"]


def restrict_to_current_user(path: Path) -> bool:
    """Make `path` user-only (Windows); True when done. Elsewhere a no-op (0600 already).

    A failure is logged, not raised: the profile's own ACL already keeps other
    non-admin users out, and the enrollment must not be lost over it.
    """
    if sys.platform != "win32":
        return False
    try:
        sid = sid_from_whoami(_quiet(["whoami", "/user", "/fo", "csv", "/nh"]))
        _quiet(icacls_command(path, sid))
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        log.warning("token left with the profile's ACL (icacls failed): %s", exc)
        return False
    return True


def _quiet(command: list[str]) -> str:
    """Run a Windows tool without a console window (none may flash from the agent)."""
    if sys.platform != "win32":
        raise OSError("Windows only")
    done = subprocess.run(  # noqa: S603 (fixed arguments, built above)
        command,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
        creationflags=subprocess.CREATE_NO_WINDOW,
    )
    return done.stdout
