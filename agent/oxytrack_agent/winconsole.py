"""Print to the console that started the windowless Windows agent, if any.

The frozen oxytrack-agent.exe is a GUI program (no console flashes at logon),
so Windows gives it no stdout: `oxytrack-agent.exe status` typed in a console
would print nothing. When a console started it, attach to that console and
write there; started by the logon Run entry, there is none and nothing changes.
"""

from __future__ import annotations

import sys

#: AttachConsole's "the parent process's console".
_ATTACH_PARENT_PROCESS = -1


def attach_parent_console() -> bool:
    """Point stdout/stderr at the parent's console when we have none; True if done."""
    if sys.platform != "win32" or sys.stdout is not None:
        return False
    import ctypes

    if not ctypes.windll.kernel32.AttachConsole(_ATTACH_PARENT_PROCESS):
        return False
    # Line-buffered: the console shows each line as it comes.
    sys.stdout = open("CONOUT$", "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
    sys.stderr = sys.stdout
    return True
