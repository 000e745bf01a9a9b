"""Enroll this user at logon from the machine settings, then let the agent run.

The MSI's Run entry starts `oxytrack-agent logon` in every session. A user who
is already enrolled goes straight on to `run`. Otherwise:

- machine settings with agency and service (a silent install): enroll with
  them, no window; a server that cannot be reached is retried with backoff
  for as long as the session lasts (a laptop that logs on offline), reading
  the settings again each time (an administrator may fix them meanwhile);
- machine settings without agency or service: the enroll dialog asks them;
- no machine settings (installed by hand, without properties): a small
  dialog asks the server's address and the enrollment key first.

The OS full name goes with the enrollment (enroll.machine_identity), and
config.save_token leaves the token readable by the user only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from oxytrack_agent.config import FatalError, Paths, load_config, load_token
from oxytrack_agent.enroll import (
    Choices,
    EnrollmentConflict,
    dialog_submit,
    enroll,
    fetch_choices,
    run_dialog,
)
from oxytrack_agent.i18n import _
from oxytrack_agent.lock import AlreadyRunning, SingleInstance
from oxytrack_agent.machine import MachineSettings, read_machine_settings

log = logging.getLogger(__name__)

#: First wait before enrolling again, then doubled up to the maximum.
FIRST_RETRY_S = 30.0
MAX_RETRY_S = 15 * 60.0


@dataclass(frozen=True)
class Asked:
    """What the server dialog got: an address and a key the server accepted."""

    server: str
    key: str
    choices: Choices


def is_enrolled(paths: Paths) -> bool:
    """True when this user has a configuration and a token."""
    try:
        load_config(paths)
        load_token(paths)
    except FatalError:
        return False
    return True


def enroll_at_logon(
    paths: Paths,
    *,
    has_display: bool,
    settings: Callable[[], MachineSettings | None] = read_machine_settings,
    ask_server: Callable[[], Asked | None] | None = None,
    pick: Callable[[Paths, MachineSettings, Choices | None], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_attempts: int | None = None,
) -> bool:
    """Enroll this user if needed; True when the agent may run.

    False: nothing to enroll with (no settings, no desktop), a dialog closed,
    a 409 the administrator must resolve, another session of this user
    enrolling already (it runs the agent), or `max_attempts` used up.
    """
    if is_enrolled(paths):
        return True
    try:
        # Two sessions of one user logging on together must not enroll twice.
        lock = SingleInstance(paths.data_dir / "enroll.lock")
    except AlreadyRunning:
        log.info("another session of this user is enrolling")
        return False
    try:
        return _enroll_until_done(
            paths,
            has_display=has_display,
            settings=settings,
            ask_server=ask_server or ask_server_dialog,
            pick=pick or pick_with_dialog,
            sleep=sleep,
            max_attempts=max_attempts,
        )
    finally:
        lock.release()


def _enroll_until_done(
    paths: Paths,
    *,
    has_display: bool,
    settings: Callable[[], MachineSettings | None],
    ask_server: Callable[[], Asked | None],
    pick: Callable[[Paths, MachineSettings, Choices | None], bool],
    sleep: Callable[[float], None],
    max_attempts: int | None,
) -> bool:
    delay = FIRST_RETRY_S
    attempts = 0
    while True:
        if is_enrolled(paths):
            return True
        machine = settings()
        try:
            if machine is None:
                if not has_display:
                    log.warning("not enrolled, and no machine settings to enroll with")
                    return False
                asked = ask_server()
                if asked is None:
                    log.info("enrollment dialog closed")
                    return False
                return pick(paths, MachineSettings(asked.server, asked.key), asked.choices)
            if machine.silent or not has_display:
                config = enroll(
                    paths,
                    server=machine.server,
                    key=machine.enrollment_key,
                    agency=machine.agency,
                    service=machine.service,
                )
                log.info("enrolled from the machine settings: device %s", config.device_id)
                return True
            return pick(paths, machine, None)
        except EnrollmentConflict as exc:
            log.error("enrollment refused, an administrator must act: %s", exc)
            return False
        except FatalError as exc:
            attempts += 1
            if max_attempts is not None and attempts >= max_attempts:
                log.error("enrollment failed %d times, giving up: %s", attempts, exc)
                return False
            log.warning("enrollment failed, next attempt in %.0f s: %s", delay, exc)
        sleep(delay)
        delay = min(delay * 2, MAX_RETRY_S)


def pick_with_dialog(paths: Paths, machine: MachineSettings, choices: Choices | None) -> bool:
    """The enroll dialog (agency, service) for the machine's server; True once enrolled."""
    if choices is None:
        choices = fetch_choices(machine.server, machine.enrollment_key)

    submit = dialog_submit(paths, server=machine.server, key=machine.enrollment_key)
    return run_dialog(choices, submit) is not None


def ask_server_dialog() -> Asked | None:
    """A small window asking the server's address and the enrollment key.

    Valider checks them against the server (the list of agencies) before the
    window closes; an error is shown in it. None when the window is closed.
    """
    import tkinter as tk
    from tkinter import ttk

    root = tk.Tk(className="OxytrackServer")
    root.title(_("OxyTrack — inscription"))
    root.resizable(False, False)
    frame = ttk.Frame(root, padding=16)
    frame.grid()
    ttk.Label(
        frame, text=_("Indiquez l'adresse du serveur OxyTrack et la clé d'inscription.")
    ).grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, 8))
    server = tk.StringVar(root, value="https://")
    key = tk.StringVar(root)
    ttk.Label(frame, text=_("Serveur :")).grid(row=1, column=0, sticky="w")
    server_box = ttk.Entry(frame, textvariable=server, width=40)
    server_box.grid(row=1, column=1, pady=2)
    ttk.Label(frame, text=_("Clé d'inscription :")).grid(row=2, column=0, sticky="w")
    ttk.Entry(frame, textvariable=key, width=40, show="•").grid(row=2, column=1, pady=2)
    message = tk.StringVar(root)
    ttk.Label(frame, textvariable=message, foreground="#b00020", wraplength=380).grid(
        row=3, column=0, columnspan=2, sticky="w", pady=8
    )
    result: list[Asked] = []

    def validate(*_args: object) -> None:
        address, secret = server.get().strip(), key.get().strip()
        if not secret or address in ("", "https://"):
            message.set(_("Indiquez l'adresse du serveur et la clé avant de valider."))
            return
        try:
            choices = fetch_choices(address, secret)
        except FatalError as exc:
            message.set(str(exc))
            return
        result.append(Asked(address, secret, choices))
        root.destroy()

    ttk.Button(frame, text=_("Valider"), command=validate).grid(row=4, column=1, sticky="e")
    root.bind("<Return>", validate)
    server_box.focus_set()
    root.mainloop()
    return result[0] if result else None
