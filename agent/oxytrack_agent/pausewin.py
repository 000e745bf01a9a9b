"""`oxytrack-agent pause-window`: a small always-available pause control (Tk, stdlib).

For desktop sessions: the employee pauses or resumes with a click, without a
terminal. It writes the same control file as `pause` and `resume` (pause.py)
and its process id next to it, so the sampler never counts the time it has
the focus. It asks the window manager not to give it the focus when it
appears. The tray icon (tray.py, a process of its own) opens it on a click
where its backend has no menu, and shows it instead of an icon where the
desktop has no tray.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from oxytrack_agent.config import Paths
from oxytrack_agent.i18n import _
from oxytrack_agent.pause import (
    STATUS_WINDOW_PID_FILE,
    WINDOW_PID_FILE,
    PauseRefused,
    pause_path,
    read_pause,
    start_pause,
    stop_pause,
)
from oxytrack_agent.policy import load_policy

#: What one click on "Pause" asks for (within the day's maximum).
CLICK_MINUTES = 15


def _close_on_signals(root: Any) -> None:
    """SIGTERM/SIGHUP (logoff, the tray quitting) close the window, so its pid file goes too.

    A stale pid file would hide from the sampler whatever process gets that pid next.
    Python runs the handler between Tk events; the `after` tick makes sure there are some.
    """

    def close(_signum: int, _frame: object) -> None:
        root.quit()

    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), close)

    def tick() -> None:
        root.after(250, tick)

    tick()


def run_window(paths: Paths, tz: tzinfo, *, close_when: Callable[[], bool] | None = None) -> int:
    """Show the control until closed; 0 on a normal close.

    `close_when` is asked every second; True closes the window (the tray
    process uses it to hand over to its icon once a tray host shows up).
    """
    import tkinter as tk

    control = pause_path(paths.data_dir)
    pid_file = paths.data_dir / WINDOW_PID_FILE
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(os.getpid()), encoding="utf-8")
    root = tk.Tk(className="OxytrackPause")
    root.title(_("OxyTrack : pause privée"))
    root.resizable(False, False)
    with contextlib.suppress(tk.TclError):  # X11 only: a small tool window, not a task
        root.wm_attributes("-type", "utility")
    status = tk.StringVar()
    message = tk.StringVar()

    def maximum() -> float:
        return load_policy(paths.policy_file).pause_max_minutes_per_day

    def refresh() -> None:
        if close_when is not None and close_when():
            root.quit()
            return
        refresh_now()
        root.after(1000, refresh)

    def pause() -> None:
        try:
            start_pause(control, CLICK_MINUTES, max_minutes=maximum(), t=time.time(), tz=tz)
            message.set("")
        except PauseRefused as exc:
            message.set(str(exc))
        refresh_now()

    def resume() -> None:
        stop_pause(control, max_minutes=maximum(), t=time.time(), tz=tz)
        message.set("")
        refresh_now()

    def refresh_now() -> None:
        state = read_pause(control)
        end = state.end(maximum())
        if end is not None and state.paused_at(time.time(), maximum()):
            until = datetime.fromtimestamp(end, tz=tz).strftime("%H:%M")
            status.set(_("En pause jusqu'à {time} : rien n'est enregistré.").format(time=until))
        else:
            status.set(_("Suivi en cours."))

    tk.Label(root, textvariable=status, padx=8, pady=4).pack()
    tk.Label(root, textvariable=message, fg="#a00", wraplength=260, padx=8).pack()
    row = tk.Frame(root, padx=8, pady=6)
    row.pack()
    tk.Button(
        row,
        text=_("Pause {n} min").format(n=CLICK_MINUTES),
        command=pause,
        takefocus=False,
    ).pack(side="left", padx=4)
    tk.Button(row, text=_("Reprendre"), command=resume, takefocus=False).pack(side="left", padx=4)
    refresh()
    return _run_until_closed(root, pid_file)


def _run_until_closed(root: Any, pid_file: Path) -> int:
    """Run the window's loop; then its pid file and the window go, whatever ended it."""
    import tkinter as tk

    _close_on_signals(root)
    try:
        root.mainloop()
    finally:
        with contextlib.suppress(OSError):
            pid_file.unlink()
        # quit() (a signal, the tray taking over) leaves the window up: take it down.
        with contextlib.suppress(tk.TclError):
            root.destroy()
    return 0


def run_text_window(paths: Paths, title: str, text: str) -> int:
    """Show `text` (the status report) read-only in a small window until closed.

    Its pid goes next to the pause window's: the sampler does not count it either.
    """
    import tkinter as tk

    pid_file = paths.data_dir / STATUS_WINDOW_PID_FILE
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(os.getpid()), encoding="utf-8")
    root = tk.Tk(className="OxytrackStatus")
    root.title(title)
    lines = text.splitlines() or [""]
    box = tk.Text(
        root,
        width=min(100, max(len(line) for line in lines) + 2),
        height=min(40, len(lines) + 1),
        wrap="word",
        padx=8,
        pady=6,
    )
    box.insert("1.0", text)
    box.configure(state="disabled")
    box.pack(fill="both", expand=True)
    tk.Button(root, text=_("Fermer"), command=root.destroy).pack(pady=4)
    return _run_until_closed(root, pid_file)
