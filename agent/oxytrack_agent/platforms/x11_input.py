"""Key and click counting on X11 with the RECORD extension, without pynput.

pynput's X backend opens two listeners (keyboard and mouse), each with two
display connections, a thread and its own key-symbol tables, and it imports
its whole keyboard layer (about 5 MiB of the agent's memory budget). Counting
needs none of that: one RECORD context for the KeyPress and ButtonPress device
events of all clients, on one connection of its own, read by one thread that
looks only at each event's type, button number and server timestamp. Which
key was pressed is never decoded. python-xlib is already the X11 backend's library.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from Xlib import X
from Xlib.ext import record

from oxytrack_agent.platforms.x11 import ServerClock, open_display

log = logging.getLogger(__name__)

#: Events kept while nobody takes them (as the sampler's other counters).
MAX_PENDING_EVENTS = 100_000

#: Mouse buttons 4-7 are the wheel (up, down, left, right): scrolls, not clicks.
SCROLL_BUTTONS = frozenset({4, 5, 6, 7})

#: A core X event on the wire is 32 bytes: byte 0 its type (bit 7 set when it
#: was sent by a client), byte 1 its detail (the keycode, or the button).
_EVENT_SIZE = 32


def _range(event_type: int) -> dict[str, Any]:
    """A RECORD range holding one core device event type and nothing else."""
    return {
        "core_requests": (0, 0),
        "core_replies": (0, 0),
        "ext_requests": (0, 0, 0, 0),
        "ext_replies": (0, 0, 0, 0),
        "delivered_events": (0, 0),
        "device_events": (event_type, event_type),
        "errors": (0, 0),
        "client_started": False,
        "client_died": False,
    }


class XRecordCounter:
    """Counts key presses and clicks of the whole X session (the sampler's InputCounter).

    `control` is a connection the caller already has (the platform's): the
    context is created and later disabled through it, since the recording
    connection is busy reading for as long as the context is enabled.
    """

    def __init__(
        self,
        display_name: str | None,
        control: Any,
        clock: ServerClock | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._display_name = display_name
        self._control = control
        self._clock = clock or ServerClock()
        self._now = now
        #: The latest `until` taken: an event read later is placed after it.
        self._taken_until = float("-inf")
        self._keys: deque[float] = deque(maxlen=MAX_PENDING_EVENTS)
        self._clicks: deque[float] = deque(maxlen=MAX_PENDING_EVENTS)
        self._lock = threading.Lock()
        self._context: int | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> None:
        """Create the context and start the thread that reads it.

        Raises when the server has no RECORD extension (the sampler then counts
        nothing and says so in the log).
        """
        if not self._control.has_extension("RECORD"):
            raise RuntimeError("the X server has no RECORD extension")
        recording = open_display(self._display_name)
        self._context = self._control.record_create_context(
            0, [record.AllClients], [_range(X.KeyPress), _range(X.ButtonPress)]
        )
        self._control.sync()  # the context exists before it is enabled
        self._thread = threading.Thread(
            target=self._run, args=(recording, self._context), name="x11-input", daemon=True
        )
        self._thread.start()
        # Events are recorded from the moment the server says StartOfData.
        if not self._started.wait(5) or not self._thread.is_alive():
            # Counting nothing silently would read as "no input": say so instead.
            raise RuntimeError("RECORD did not start")

    def stop(self) -> None:
        """Disable the context (which ends the thread's read), then free it."""
        if self._context is None:
            return
        context, self._context = self._context, None
        try:
            self._control.record_disable_context(context)
            self._control.flush()
            if self._thread is not None:
                self._thread.join(timeout=2)
            self._control.record_free_context(context)
            self._control.flush()
        except Exception:  # the X server is gone (logoff): nothing left to free
            log.debug("input counter: display already closed")

    def take(self, until: float) -> tuple[list[float], list[float]]:
        """Monotonic times of key presses and clicks up to `until`, and forget them."""
        with self._lock:
            self._taken_until = max(self._taken_until, until)
            return _pop_until(self._keys, until), _pop_until(self._clicks, until)

    def _run(self, recording: Any, context: int) -> None:
        try:
            # Blocks, calling back for each batch, until the context is disabled.
            recording.record_enable_context(context, self._on_reply)
        except Exception as exc:  # the X server went away: the sampler sees it too
            log.info("input counter stopped: %s", type(exc).__name__)
        finally:
            self._started.set()
            try:
                recording.close()
            except Exception:
                log.debug("input counter: recording connection already closed")

    def _on_reply(self, reply: Any) -> None:
        if reply.category == record.StartOfData:
            self._started.set()
            return
        if reply.category != record.FromServer:
            return
        data = reply.data
        arrival = self._now()
        for at in range(0, len(data) - _EVENT_SIZE + 1, _EVENT_SIZE):
            kind = data[at] & 0x7F
            if kind == X.KeyPress:
                events = self._keys
            elif kind == X.ButtonPress and data[at + 1] not in SCROLL_BUTTONS:
                events = self._clicks
            else:
                continue
            # Bytes 4-7: the server's timestamp (ms), in this client's byte order.
            server_ms = int.from_bytes(data[at + 4 : at + 8], sys.byteorder)
            moment = self._clock.monotonic(server_ms, arrival)
            # Under the lock, so an event placed before the sampler's reading is
            # there when it takes; one read after that reading goes to the next.
            with self._lock:
                last = events[-1] if events else moment
                events.append(max(moment, self._taken_until + 1e-6, last))


def _pop_until(events: deque[float], until: float) -> list[float]:
    out: list[float] = []
    while events and events[0] <= until:
        out.append(events.popleft())
    return out
