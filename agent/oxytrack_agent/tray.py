"""`oxytrack-agent tray`: the pause control in the notification area (pystray, Pillow).

A process of its own, started at logon next to the agent (autostart.py): the
measured `run` process never imports pystray nor Pillow, so its memory stays
what bench/agent.py measures. Like the pause window, it only writes the pause
control file (pause.py); the agent reads it within a second.

Backends (pystray picks one at import time):
- Windows (win32) and macOS (darwin): a full menu (state, pause 15/30/60 min
  within what is left today, resume, "Mon activité", detailed status); a
  left click on Windows opens the small pause window (the default item).
- Linux without PyGObject: the xorg backend (XEmbed system tray) has no menu,
  only a default action: a click opens the small pause window (pausewin.py),
  whose buttons pause and resume. The tooltip and the icon's colour still
  follow the state. (With PyGObject installed, pystray picks appindicator or
  gtk instead, which have menus.)
- No tray host on X11 (no owner of `_NET_SYSTEM_TRAY_S<screen>`, e.g. a bare
  window manager) after a short wait at logon: the small window is shown
  instead, in this process, until a tray host appears (a panel started
  late): then the window closes and the icon takes over. A tray host that
  goes away and comes back (a panel restarted), or drops the request, gets
  asked again. `oxytrack-agent uninstall` (the configuration gone) ends it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import tzinfo
from types import FrameType
from typing import Any

from oxytrack_agent.config import Paths, agent_command
from oxytrack_agent.lock import is_running
from oxytrack_agent.pause import PauseRefused, pause_path, read_pause, start_pause, stop_pause
from oxytrack_agent.policy import load_policy
from oxytrack_agent.traymenu import (
    Mode,
    TrayState,
    left_text,
    pause_choices,
    portal_text,
    resume_text,
    state_text,
    status_text,
    tray_state,
    window_text,
)

log = logging.getLogger("oxytrack_agent.tray")

#: How long to wait at logon for a tray host (a panel often starts after the autostart entries).
DEFAULT_HOST_WAIT_S = 8.0
#: How often the state is read again (the pause file, the agent's lock, the clock).
REFRESH_S = 1.0
ICON_SIZE = 64

#: The icon's colour per state: green while tracking, amber in a pause, grey otherwise.
COLOURS = {
    Mode.TRACKING: (34, 139, 84),
    Mode.PAUSED: (230, 150, 20),
    Mode.OFF_HOURS: (130, 130, 130),
    Mode.STOPPED: (130, 130, 130),
}


def draw_icon(mode: Mode) -> Any:
    """The icon for `mode`, drawn at run time (no image file shipped): a disc; bars in a pause."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (ICON_SIZE, ICON_SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, ICON_SIZE - 3, ICON_SIZE - 3), fill=COLOURS[mode], outline=(255, 255, 255))
    if mode is Mode.PAUSED:
        for x in (20, 37):
            draw.rectangle((x, 18, x + 7, ICON_SIZE - 19), fill=(255, 255, 255))
    elif mode is Mode.TRACKING:
        draw.ellipse((24, 24, ICON_SIZE - 25, ICON_SIZE - 25), fill=(255, 255, 255))
    else:
        draw.rectangle((18, 29, ICON_SIZE - 19, 34), fill=(255, 255, 255))
    return image


def tray_host_present(display_name: str | None = None) -> bool:
    """True when an X11 system tray (XEmbed) host owns `_NET_SYSTEM_TRAY_S<screen>`."""
    from Xlib import X
    from Xlib import display as xdisplay
    from Xlib.error import DisplayError

    try:
        d = xdisplay.Display(display_name)
    except DisplayError:
        return False
    try:
        atom = d.intern_atom(f"_NET_SYSTEM_TRAY_S{d.get_default_screen()}")
        owner = d.get_selection_owner(atom)
        return bool(owner != X.NONE and getattr(owner, "id", owner))
    finally:
        d.close()


def wait_for_tray_host(timeout_s: float) -> bool:
    """Wait up to `timeout_s` for an X11 tray host; True once one is there."""
    deadline = time.monotonic() + timeout_s
    while True:
        if tray_host_present():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.25)


def _icon_class() -> Any:
    """pystray's Icon for this platform; the xorg one made to hear clicks.

    pystray 0.19.5's xorg backend creates its window without ButtonPressMask,
    so the X server never delivers it a click (its handler is never called:
    checked under trayer). Selecting the event on the window fixes it.
    """
    import pystray

    base: Any = pystray.Icon
    if not base.__module__.endswith("_xorg"):
        return base
    from Xlib import X

    class XorgIcon(base):
        def _create_window(self) -> Any:
            window = super()._create_window()
            window.change_attributes(
                event_mask=X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask
            )
            return window

    return XorgIcon


def send_queued(icon: Any) -> None:
    """xorg: send the X requests pystray's loop thread queued for the update just made.

    pystray makes each change (title, image, docking) in its loop thread, woken
    by a message this thread sends and flushes. python-xlib sends a queued
    request only when some thread flushes, and the loop queues the new title
    while this thread's flush may still be ending: then nothing sends it. On a
    busy PC the tooltip and icon kept the old state until the next change (20 s
    and more, 9 changes in 30 with the CPUs busy). Called after the change has
    returned, this flush finds the request queued. Other backends have no
    X display: nothing to do.
    """
    display = getattr(icon, "_display", None)
    if display is not None:
        display.flush()


class Tray:
    """The icon, its menu, and the thread that keeps both in step with the state."""

    def __init__(self, paths: Paths, tz: tzinfo) -> None:
        self.paths = paths
        self.tz = tz
        self.control = pause_path(paths.data_dir)
        self.stop_event = threading.Event()
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self.state = self.read_state()
        #: `oxytrack-agent uninstall` removes the configuration: the icon then goes too.
        self._enrolled_at_start = paths.config_file.exists()
        #: Seconds in a row a tray host was there without holding the icon (xorg).
        self._unheld = 0
        import pystray

        self._pystray = pystray
        self.icon: Any = self._new_icon()

    def _new_icon(self) -> Any:
        return _icon_class()(
            "oxytrack",
            draw_icon(self.state.mode),
            state_text(self.state),
            menu=self.build_menu(self.state),
        )

    def _max_minutes(self) -> float:
        return load_policy(self.paths.policy_file).pause_max_minutes_per_day

    def read_state(self) -> TrayState:
        """The state now, from the policy, the pause file and the agent's lock."""
        return tray_state(
            load_policy(self.paths.policy_file),
            read_pause(self.control),
            running=is_running(self.paths.lock_file),
            t=time.time(),
            tz=self.tz,
        )

    # --- actions -------------------------------------------------------------------

    def pause(self, minutes: int | None) -> None:
        """Start a pause of `minutes` (cut to what is left today)."""
        try:
            start_pause(
                self.control, minutes, max_minutes=self._max_minutes(), t=time.time(), tz=self.tz
            )
        except PauseRefused as exc:
            log.warning("%s", exc)
        self.refresh(force=True)

    def resume(self) -> None:
        """End the pause now."""
        stop_pause(self.control, max_minutes=self._max_minutes(), t=time.time(), tz=self.tz)
        self.refresh(force=True)

    def spawn(self, name: str, *args: str) -> None:
        """Start `oxytrack-agent ARGS` once (a second click while it is open does nothing)."""
        child = self._children.get(name)
        if child is not None and child.poll() is None:
            return
        self._children[name] = subprocess.Popen(agent_command(*args))  # noqa: S603 (our own command)

    def _pause_for(self, minutes: int | None) -> Callable[[], None]:
        return lambda: self.pause(minutes)

    # --- menu ----------------------------------------------------------------------

    def build_menu(self, state: TrayState) -> Any:
        """The menu for `state` (rebuilt when the state changes)."""
        pystray = self._pystray
        item = pystray.MenuItem

        def action(fn: Callable[[], None]) -> Callable[[Any, Any], None]:
            return lambda _icon, _item: fn()

        items = [item(state_text(state), None, enabled=False)]
        if left_text(state):
            items.append(item(left_text(state), None, enabled=False))
        items.append(pystray.Menu.SEPARATOR)
        for choice in pause_choices(state):
            items.append(
                item(choice.label, action(self._pause_for(choice.minutes)), enabled=choice.enabled)
            )
        items.append(item(resume_text(), action(self.resume), enabled=state.mode is Mode.PAUSED))
        items.append(pystray.Menu.SEPARATOR)
        items.append(item(portal_text(), action(lambda: self.spawn("portal", "portal"))))
        items.append(item(status_text(), action(lambda: self.spawn("status", "status-window"))))
        # The default action: a click where the backend has no menu (xorg), a left click on Windows.
        items.append(
            item(window_text(), action(lambda: self.spawn("window", "pause-window")), default=True)
        )
        return pystray.Menu(*items)

    # --- loop ----------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> None:
        """Redraw the icon, tooltip and menu if the state changed."""
        state = self.read_state()
        if state == self.state and not force:
            return
        self.state = state
        self.icon.icon = draw_icon(state.mode)
        self.icon.title = state_text(state)
        self.icon.menu = self.build_menu(state)
        send_queued(self.icon)
        log.info("tray state: %s", state.mode.value)

    def uninstalled(self) -> bool:
        """True once the agent this icon started with has been uninstalled."""
        return self._enrolled_at_start and not self.paths.config_file.exists()

    def _embedded(self, display: Any) -> bool:
        """Whether a tray host holds our icon window (its parent is not the root).

        A window already gone counts as held: there is nothing to dock, run()
        makes a new icon once pystray's loop sees it go.
        """
        from Xlib.error import XError

        try:
            window = display.create_resource_object("window", self.icon._window.id)
            return bool(window.query_tree().parent.id != display.screen().root.id)
        except XError:
            return True

    def _redock(self, display: Any) -> None:
        """xorg: ask again to be docked when a tray host is there but does not hold the icon.

        pystray asks once at start and once when its host is destroyed. A panel
        that restarts a moment later, or that drops a request sent while it was
        still starting (trayer does), would never show the icon. `display` is
        this thread's own connection: pystray's is being read by its loop.
        """
        if self._embedded(display) or not tray_host_present():
            self._unheld = 0
            return
        self._unheld += 1
        if self._unheld >= 2:  # a request takes a moment to be served
            log.info("a tray host is there but does not hold the icon: docking again")
            self._unheld = 0
            self.icon._show()  # sent by the loop's send_queued() just after

    def _watch(self, icon: Any) -> None:
        icon.visible = True
        xorg = self._pystray.Icon.__module__.endswith("_xorg")
        log.info("tray icon shown (backend %s)", self._pystray.Icon.__module__)
        display = None
        if xorg:
            from Xlib import display as xdisplay

            display = xdisplay.Display()
        try:
            # Ends with the process, or when this icon is replaced (see run()).
            while not self.stop_event.wait(REFRESH_S) and icon is self.icon:
                if self.uninstalled():
                    log.info("the agent was uninstalled: the tray icon goes too")
                    self._stop_from_thread(xorg=xorg)
                    return
                try:
                    self.refresh()
                    if display is not None:
                        self._redock(display)
                    # A re-docking, or a change made in pystray's own thread (a
                    # click's pause), can be left queued the same way.
                    send_queued(icon)
                except Exception:  # a half-written policy file, a display hiccup: try again
                    log.exception("tray refresh failed")
        finally:
            if display is not None:
                display.close()

    def run(self) -> int:
        """Show the icon until stopped (SIGTERM, SIGINT, logoff)."""

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            self.stop()

        for name in ("SIGTERM", "SIGINT", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), on_signal)
        try:
            while True:
                self.icon.run(setup=self._watch)
                if self.stop_event.is_set():
                    break
                # The loop ends by itself only when our window was destroyed: a panel
                # that went away can take its embedded windows with it. Show a new one.
                log.info("the tray host took the icon's window away: showing a new one")
                time.sleep(REFRESH_S)
                self.icon = self._new_icon()
        finally:
            self.stop_event.set()
            for child in self._children.values():
                with contextlib.suppress(OSError):
                    if child.poll() is None:
                        child.terminate()
        return 0

    def _stop_from_thread(self, *, xorg: bool) -> None:
        """Stop from the watch thread.

        On xorg, pystray's stop() from another thread shares one python-xlib
        connection with the loop blocked reading it, and the loop sometimes
        never sees its window's end (1 run in 5 here). A SIGTERM to ourselves
        runs the handler in the main thread, where the loop is: the same path
        as a logoff.
        """
        if xorg and hasattr(signal, "SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)
        else:
            self.stop()

    def stop(self) -> None:
        """End the loop (from a signal handler or another thread)."""
        self.stop_event.set()
        self.icon.stop()


def run_tray(paths: Paths, tz: tzinfo, *, host_wait_s: float = DEFAULT_HOST_WAIT_S) -> int:
    """The tray icon, or the small pause window where no tray can hold it."""
    import pystray

    if pystray.Icon.__module__.endswith("_xorg") and not wait_for_tray_host(host_wait_s):
        log.info("no system tray on this display: showing the pause window")
        from oxytrack_agent.pausewin import run_window

        host_appeared = False

        def host_is_there() -> bool:
            nonlocal host_appeared
            host_appeared = tray_host_present()
            return host_appeared

        code = run_window(paths, tz, close_when=host_is_there)
        if not host_appeared:
            return code  # closed by the employee, or the session ends
        log.info("a tray host appeared: the icon replaces the pause window")
    return Tray(paths, tz).run()
