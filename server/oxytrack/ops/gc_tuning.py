"""The garbage collector's thresholds in the server's processes (wsgi.py).

With CPython's defaults (700, 10, 10) a page's short-lived objects (query rows,
unpickled cache entries, template nodes) outlive young collections and are
promoted, so a full collection runs every few dozen requests. It walks every
object of the process, the long-lived caches included (the window map, the
names, the past totals): about 100 ms on the bench base (bench/web.py), the
slowest page of ~30 on the team and search pages. A larger first threshold lets
a request's objects die by reference count before any collection sees them;
`gc.freeze()` takes what the process loaded at start out of every collection.
Cyclic garbage waits longer to be freed: at most a few tens of thousands of
allocations' worth.
"""

from __future__ import annotations

import gc

#: Allocations between two young collections, then young collections per middle
#: one, middle ones per full one.
THRESHOLDS = (50_000, 20, 100)


def tune() -> None:
    """Freeze what is loaded so far and raise the thresholds (once per process)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
