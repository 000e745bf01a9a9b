"""Linux X11 backend: python-xlib, EWMH, MIT-SCREEN-SAVER.

Read order for the focused window (see docs/testing.md for why):
`_NET_ACTIVE_WINDOW` when the window manager lists it in `_NET_SUPPORTED`
(openbox leaves a stale value behind when it exits), else `XGetInputFocus`
walked up to the top-level client window. Titles come from `_NET_WM_NAME`
(UTF-8), else `WM_NAME` decoded by its type.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from Xlib import X, Xatom, display, error
from Xlib import ext as xext
from Xlib.ext import res as xres
from Xlib.ext import screensaver

from oxytrack_agent.platforms import DESKTOP_APP, Changes, Window, changes_of

if TYPE_CHECKING:
    from oxytrack_agent.platforms.x11_input import XRecordCounter

log = logging.getLogger(__name__)

#: The X extensions the agent uses (idle and locks, window owners, input counts).
USED_EXTENSIONS = ("MIT-SCREEN-SAVER", "X-Resource", "RECORD")
# python-xlib imports and sets up, on every connection, each extension the
# server offers that it knows (RANDR, XInput, XFIXES...): ~0.8 MiB of the
# agent's budget for nothing it uses. Every Display made after this line
# knows only these three.
xext.__extensions__ = [e for e in xext.__extensions__ if e[0] in USED_EXTENSIONS]

# COMPOUND_TEXT (what xterm writes) is ISO 2022; for the Latin-1 and UTF-8
# escapes that real titles use, this table covers it without a full decoder.
_CT_UTF8_START = b"\x1b%G"
_CT_UTF8_END = b"\x1b%@"


def open_display(display_name: str | None) -> Any:
    """A connection to the X server, without the server's list of visuals.

    python-xlib parses, at connect, every visual of every screen into Python
    objects (390 under Xvfb, hundreds on any server with GLX): ~0.35 MiB per
    connection, kept all day, for an agent that draws nothing. Dropped at
    once, the next connection reuses that memory.
    """
    connection = display.Display(display_name)
    for screen in connection.display.info.roots:
        screen.allowed_depths = []
    return connection


class ServerClock:
    """X server timestamps (milliseconds, wrapping at 2**32) as this process's monotonic time.

    An event reaches us some milliseconds after the server stamped it, more
    under load, and each of our X threads reads its own connection: stamped
    on arrival, a key pressed just before a focus change could come out after
    it. Stamped by the server's clock, input and changes keep their order.
    The offset between the two clocks is the smallest (arrival - server time)
    seen: arrival is never before the event. It may grow by AGE seconds per
    second when no event refreshes it, so a drift between the two clocks (an
    X server on another host) cannot make old moments appear later than they
    arrived; a mapped moment is never after its arrival.
    """

    AGE = 1e-3  # 1 ms per second: far above the drift of two real clocks

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset: float | None = None
        self._offset_at = 0.0
        self._last_ms: int | None = None
        self._wraps = 0

    def monotonic(self, server_ms: int, arrival: float) -> float:
        """The monotonic moment of an event stamped `server_ms`, read at `arrival`."""
        with self._lock:
            t = self._unwrap(server_ms) / 1000.0
            candidate = arrival - t
            if self._offset is None:
                self._offset = candidate
            else:
                aged = self._offset + self.AGE * max(0.0, arrival - self._offset_at)
                self._offset = min(candidate, aged)
            self._offset_at = arrival
            return t + self._offset

    def _unwrap(self, ms: int) -> int:
        """`ms` on a clock that does not wrap (the server's wraps every 49.7 days)."""
        if self._last_ms is None or self._last_ms <= ms <= self._last_ms + 2**31:
            self._last_ms = ms
        elif ms < self._last_ms - 2**31:  # wrapped
            self._wraps += 1
            self._last_ms = ms
        elif ms > self._last_ms + 2**31:  # from just before the last wrap, read late
            return ms + (self._wraps - 1) * 2**32
        return ms + self._wraps * 2**32


def decode_text_property(value: bytes | str, type_name: str) -> str:
    """Decode a WM_NAME-like property according to its declared type."""
    if isinstance(value, str):
        return value
    if type_name == "UTF8_STRING":
        return value.decode("utf-8", "replace")
    if type_name == "COMPOUND_TEXT":
        out: list[str] = []
        rest = value
        while rest:
            start = rest.find(_CT_UTF8_START)
            if start < 0:
                out.append(_strip_iso2022(rest).decode("latin-1"))
                break
            out.append(_strip_iso2022(rest[:start]).decode("latin-1"))
            rest = rest[start + len(_CT_UTF8_START) :]
            end = rest.find(_CT_UTF8_END)
            chunk, rest = (rest, b"") if end < 0 else (rest[:end], rest[end + 3 :])
            out.append(chunk.decode("utf-8", "replace"))
        return "".join(out)
    # STRING is Latin-1 by the ICCCM.
    return value.decode("latin-1")


def gecos_full_name(gecos: str) -> str:
    """The full name in a passwd GECOS field: its first comma-separated part.

    `chfn` writes "Full Name,Room,Work phone,Home phone,Other".
    """
    return gecos.split(",", 1)[0].strip()


def full_user_name() -> str:
    """The running user's full name from the passwd database, or ''."""
    import pwd

    try:
        entry = pwd.getpwuid(os.getuid())
    except KeyError:
        # A uid with no passwd entry (containers, some LDAP outages).
        return ""
    return gecos_full_name(entry.pw_gecos or "")


def _strip_iso2022(chunk: bytes) -> bytes:
    # Designations of the Latin-1 right half (ESC - A) and ASCII left half (ESC ( B).
    return chunk.replace(b"\x1b-A", b"").replace(b"\x1b(B", b"")


class ChangeWatcher:
    """The moments of focus, title and screen-saver changes, from X events.

    A thread of its own on a connection of its own sleeps in `select` until the
    X server sends an event: a `PropertyNotify` of `_NET_ACTIVE_WINDOW` on the
    root (the window manager moved the focus), of `_NET_WM_NAME`/`WM_NAME` on
    the active window (its title changed), or a MIT-SCREEN-SAVER notify (the
    session locked or unlocked). It places each at the server's timestamp of
    the event (`ServerClock`, shared with the input counter), so the sampler
    can place input on either side of a change it sees up to a second later,
    whichever thread read its event first. No polling: idle
    sessions cost nothing, and a busy one a wake-up per change.

    Reading the window after a focus change takes several round trips (100 ms
    and more on a loaded machine); a sample asking meanwhile would miss the
    change, and the keys typed in the new window would count for the old one.
    `changes` waits, at most CATCH_UP_S, for the events being handled.
    """

    CATCH_UP_S = 0.5

    def __init__(self, display_name: str | None, clock: ServerClock | None = None) -> None:
        self._clock = clock or ServerClock()
        #: The latest `until` asked for: a change read later is placed after it.
        self._asked_until = float("-inf")
        self._display = open_display(display_name)
        # Reads the window after each change, in this thread, on this connection
        # (each connection costs memory, see open_display).
        self._reader = X11Platform(display_name, watch=False, connection=self._display)
        self._root = self._display.screen().root
        atom = self._display.intern_atom
        self._net_active = atom("_NET_ACTIVE_WINDOW")
        self._titles = {atom("_NET_WM_NAME"), Xatom.WM_NAME}
        self._events: deque[tuple[float, str, Window | None]] = deque(maxlen=4096)
        self._lock = threading.Lock()
        #: Set while the thread handles events the server sent (see CATCH_UP_S).
        self._handling = False
        self._caught_up = threading.Condition(self._lock)
        self._watched: Any | None = None
        self._stop_r, self._stop_w = os.pipe()
        self._root.change_attributes(event_mask=X.PropertyChangeMask)
        # python-xlib registers a copy of the extension's event class: match
        # its event code, not the class.
        self._saver_event = -1
        if self._display.has_extension("MIT-SCREEN-SAVER"):
            info = self._display.query_extension("MIT-SCREEN-SAVER")
            self._saver_event = info.first_event  # ScreenSaverNotify is event 0
            self._root.screensaver_select_input(screensaver.NotifyMask)
        self._watch_active()
        self._display.flush()
        self._thread = threading.Thread(target=self._run, name="x11-changes", daemon=True)
        self._thread.start()

    def changes(self, after: float, until: float) -> Changes:
        """Focus/title changes (with the window then), locks and unlocks in (after, until]."""
        with self._caught_up:
            self._caught_up.wait_for(lambda: not self._handling, timeout=self.CATCH_UP_S)
            self._asked_until = max(self._asked_until, until)
            # Older events can never be asked for again: the sampler moves on.
            while self._events and self._events[0][0] <= after:
                self._events.popleft()
            events = list(self._events)
        return changes_of(events, after, until)

    def close(self) -> None:
        """Stop the thread, then close its connection."""
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=2)
        os.close(self._stop_r)
        os.close(self._stop_w)
        try:
            self._display.close()  # the reader's too
        except Exception:  # the X server may already be gone (logoff)
            log.debug("change watcher: display already closed")

    def _note(self, kind: str, server_ms: int, arrival: float) -> None:
        at = self._clock.monotonic(server_ms, arrival)
        window = None
        if kind == "focus":
            try:
                window = self._reader.focused_window()
            except error.XError:
                window = None
        with self._lock:
            # Seen after the sampler read past its moment: at the earliest moment
            # still open, rather than never.
            at = max(at, self._asked_until + 1e-6, self._events[-1][0] if self._events else at)
            self._events.append((at, kind, window))

    def _watch_active(self) -> None:
        """Follow the title of the active window (and forget the previous one's)."""
        catch = error.CatchError(error.BadWindow, error.BadValue)
        prop = self._root.get_full_property(self._net_active, X.AnyPropertyType)
        wid = int(prop.value[0]) if prop is not None and len(prop.value) else 0
        if self._watched is not None and self._watched.id != wid:
            self._watched.change_attributes(event_mask=0, onerror=catch)
            self._watched = None
        if wid not in (0, X.NONE) and self._watched is None:
            self._watched = self._display.create_resource_object("window", wid)
            self._watched.change_attributes(event_mask=X.PropertyChangeMask, onerror=catch)

    def _run(self) -> None:
        try:
            while True:
                ready, _, _ = select.select([self._display.fileno(), self._stop_r], [], [])
                if self._stop_r in ready:
                    return
                at = time.monotonic()
                with self._lock:
                    self._handling = True
                try:
                    # Reading a window queues the events that arrive meanwhile:
                    # handle them all before sleeping again.
                    while self._display.pending_events():
                        self._handle(self._display.next_event(), at)
                finally:
                    with self._caught_up:
                        self._handling = False
                        self._caught_up.notify_all()
        except Exception as exc:  # the X server went away: the sampler sees it too
            log.info("change watcher stopped: %s", type(exc).__name__)

    def _handle(self, event: Any, at: float) -> None:
        if event.type == X.PropertyNotify:
            if event.window.id == self._root.id and event.atom == self._net_active:
                self._note("focus", event.time, at)
                self._watch_active()
                self._display.flush()
            elif (
                self._watched is not None
                and event.window.id == self._watched.id
                and event.atom in self._titles
            ):
                self._note("focus", event.time, at)
        elif event.type == self._saver_event:
            if event.state == screensaver.StateOn:
                self._note("lock", event.timestamp, at)
            elif event.state == screensaver.StateOff:
                self._note("unlock", event.timestamp, at)


class X11Platform:
    """The focused window and idle time of the X11 session named by DISPLAY."""

    name = "x11"

    def __init__(
        self, display_name: str | None = None, *, watch: bool = True, connection: Any = None
    ) -> None:
        self._display_name = display_name or os.environ.get("DISPLAY")
        self._display = connection or open_display(self._display_name)
        self._root = self._display.screen().root
        atom = self._display.intern_atom
        self._net_active = atom("_NET_ACTIVE_WINDOW")
        self._net_supported = atom("_NET_SUPPORTED")
        self._net_wm_name = atom("_NET_WM_NAME")
        self._net_wm_pid = atom("_NET_WM_PID")
        self._utf8 = atom("UTF8_STRING")
        self._wm_state = atom("WM_STATE")
        self._has_screensaver = self._display.has_extension("MIT-SCREEN-SAVER")
        self._has_res = self._display.has_extension("X-Resource")
        self._watcher: ChangeWatcher | None = None
        #: One mapping of the server's clock for the change watcher and the input counter.
        self._server_clock = ServerClock()
        if watch:
            try:
                self._watcher = ChangeWatcher(self._display_name, self._server_clock)
            except Exception as exc:  # without it, changes are placed at the sample
                log.warning("X change watcher unavailable: %s", exc)

    def input_counter(self) -> XRecordCounter:
        """A key and click counter for this session (RECORD, see x11_input.py).

        The sampler prefers it to pynput's listeners, which would cost this
        always-running agent about 5 MiB more for the same counts.
        """
        from oxytrack_agent.platforms.x11_input import XRecordCounter

        return XRecordCounter(self._display_name, control=self._display, clock=self._server_clock)

    def close(self) -> None:
        """Stop the change watcher and close the display connection."""
        if self._watcher is not None:
            self._watcher.close()
        self._display.close()

    def changes(self, after: float, until: float) -> Changes:
        """Moments of focus/title changes and locks seen by X events (monotonic)."""
        return self._watcher.changes(after, until) if self._watcher else Changes()

    # --- focus ---------------------------------------------------------------

    def focused_window(self) -> Window | None:
        """The focused top-level window, or the desktop marker when none has focus."""
        try:
            win = self._active_window()
            if win is None:
                return Window(DESKTOP_APP, "")
            return Window(self._app_of(win), self._title_of(win), self._pid_of(win))
        except (error.BadWindow, error.BadDrawable, error.BadValue):
            # The window closed between two requests: report the desktop this once.
            return Window(DESKTOP_APP, "")

    def _active_window(self) -> Any | None:
        if self._ewmh_supports_active():
            prop = self._root.get_full_property(self._net_active, X.AnyPropertyType)
            if prop is not None and len(prop.value) and prop.value[0] not in (0, X.NONE):
                return self._display.create_resource_object("window", int(prop.value[0]))
            return None
        focus = self._display.get_input_focus().focus
        if isinstance(focus, int) or focus in (X.NONE, X.PointerRoot):
            return None
        return self._client_window(focus)

    def _ewmh_supports_active(self) -> bool:
        prop = self._root.get_full_property(self._net_supported, Xatom.ATOM)
        return prop is not None and self._net_active in prop.value

    def _client_window(self, win: Any) -> Any | None:
        """Walk up from the focus to the top-level window that carries WM_STATE."""
        current = win
        while current is not None and current.id != self._root.id:
            if current.get_full_property(self._wm_state, X.AnyPropertyType) is not None:
                return current
            if current.get_wm_class() is not None:
                return current
            parent = current.query_tree().parent
            if isinstance(parent, int) or parent is None or parent.id == current.id:
                break
            current = parent
        return None

    def _app_of(self, win: Any) -> str:
        wm_class = win.get_wm_class()
        if wm_class:
            # (instance, class): the class ("Firefox") names the application.
            return str(wm_class[1] or wm_class[0])
        pid = self._pid_of(win)
        if pid is not None:
            # Rare (windows without WM_CLASS): psutil is not loaded until then.
            import psutil

            try:
                return str(psutil.Process(pid).name())
            except (psutil.Error, OSError):
                pass
        return "unknown"

    def _title_of(self, win: Any) -> str:
        prop = win.get_full_property(self._net_wm_name, self._utf8)
        if prop is not None and prop.value:
            return decode_text_property(prop.value, "UTF8_STRING")
        prop = win.get_full_property(Xatom.WM_NAME, X.AnyPropertyType)
        if prop is None or not prop.value:
            return ""
        type_name = self._display.get_atom_name(prop.property_type)
        return decode_text_property(prop.value, type_name)

    def _pid_of(self, win: Any) -> int | None:
        prop = win.get_full_property(self._net_wm_pid, Xatom.CARDINAL)
        if prop is not None and len(prop.value):
            return int(prop.value[0])
        if not self._has_res:
            return None
        # Tk and others set no _NET_WM_PID: ask the server which client owns it.
        try:
            reply = self._display.res_query_client_ids(
                [{"client": win.id, "mask": xres.LocalClientPIDMask}]
            )
        except error.XError:
            return None
        for ident in reply.ids:
            if ident.spec.mask & xres.LocalClientPIDMask and ident.value:
                return int(ident.value[0])
        return None

    # --- idle ----------------------------------------------------------------

    def idle_seconds(self) -> float:
        """Milliseconds since the last input from MIT-SCREEN-SAVER, in seconds."""
        if not self._has_screensaver:
            return 0.0
        return float(self._root.screensaver_query_info().idle) / 1000.0

    def session_locked(self) -> bool:
        """True while the X screen saver is on (blanked or a locker shown).

        X11 has no portable "locked" signal; lockers (xscreensaver, light-locker,
        xss-lock) run as or with the screen saver, which MIT-SCREEN-SAVER reports.
        logind's LockedHint is not read (it would need a D-Bus dependency).
        """
        if not self._has_screensaver:
            return False
        # state: 0 = off, 1 = on, 3 = disabled (Xlib.ext.screensaver constants).
        return int(self._root.screensaver_query_info().state) == 1
