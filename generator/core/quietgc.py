"""Long loops with the cyclic garbage collector held off, and the cycles they leave freed at a pace.

Parsing makes millions of short-lived objects, and the collector walking them again and
again only slows it down: loops over many documents or records run inside
:func:`quiet_gc`. Garbage that only the collector can free then stays until the loop
ends, and some loops leave plenty: rendering a page through Jinja leaves the template's
context and its macros in a reference cycle that holds the page's whole document and
output (about 0.6 MB for a 200-item checklist). A worker rendering a chunk of 1,250 pages
(10,000 pages on two cores) grew to 1 GB that way. Such loops go over their items with
:func:`freeing_cycles`, which collects the youngest generation every few items, so their
garbage stays bounded by the pace, not by the size of the site.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["FREE_EVERY", "freeing_cycles", "quiet_gc"]

T = TypeVar("T")

FREE_EVERY = 16
"""Items between two collections in :func:`freeing_cycles` (16 pages leave ~10 MB of cycles;
each collection walks only what was made since the last one)."""


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """The cyclic collector off for the block (on again after it, if it was on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def freeing_cycles(items: Iterable[T], every: int = FREE_EVERY) -> Iterator[T]:
    """``items`` one by one, freeing the reference cycles the caller left after every
    ``every`` of them (a collection of the youngest generation: what was made since the last
    one), whether the collector is on or not."""
    for number, item in enumerate(items, 1):
        yield item
        if number % every == 0:
            gc.collect(0)
