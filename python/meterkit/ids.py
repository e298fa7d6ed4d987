"""Event ids: UUIDv7 (RFC 9562), the same layout as the TypeScript core's (packages/core/src/ids.ts):
48-bit Unix milliseconds, the version, a 32-bit counter seeded at random each millisecond and
incremented within it (so ids made in one process sort in the order they were made), the
variant, and random bits. The standard library's ``uuid`` has no v7 before Python 3.14.
"""

import os
import threading
import weakref
from typing import List

_HEX: List[str] = ["%02x" % i for i in range(256)]
_POOL_BYTES = 65_536


def uuid_v7(ms: int, counter: int, random: bytes) -> str:
    """The UUIDv7 of a millisecond, a 32-bit counter and 16 random bytes (only bytes 10–15 are used)."""
    c = counter & 0xFFFFFFFF
    b = (
        (ms >> 40) & 0xFF, (ms >> 32) & 0xFF, (ms >> 24) & 0xFF, (ms >> 16) & 0xFF, (ms >> 8) & 0xFF, ms & 0xFF,
        0x70 | ((c >> 28) & 0x0F), (c >> 20) & 0xFF, 0x80 | ((c >> 14) & 0x3F), (c >> 6) & 0xFF,
        ((c << 2) & 0xFF) | (random[10] & 0x03), random[11], random[12], random[13], random[14], random[15],
    )
    h = _HEX
    return (
        h[b[0]] + h[b[1]] + h[b[2]] + h[b[3]] + "-" + h[b[4]] + h[b[5]] + "-" + h[b[6]] + h[b[7]] + "-"
        + h[b[8]] + h[b[9]] + "-" + h[b[10]] + h[b[11]] + h[b[12]] + h[b[13]] + h[b[14]] + h[b[15]]
    )


class IdGenerator:
    """Monotonic UUIDv7s; thread-safe. Random bytes come from a pool refilled 64 KiB at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._offset = _POOL_BYTES
        self._last_ms = -1
        self._counter = 0
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: (lambda g: g._reseed() if g is not None else None)(ref()))

    def _reseed(self) -> None:
        """In a forked child: the parent's random pool and counter would make the same ids."""
        self._lock = threading.Lock()
        self._pool = b""
        self._offset = _POOL_BYTES
        self._last_ms = -1

    def new_id(self, now_ms: int) -> str:
        with self._lock:
            if self._offset + 16 > len(self._pool):
                self._pool = os.urandom(_POOL_BYTES)
                self._offset = 0
            random = self._pool[self._offset:self._offset + 16]
            self._offset += 16
            if now_ms > self._last_ms:
                self._last_ms = now_ms
                self._counter = ((random[6] & 0x7F) << 24) | (random[7] << 16) | (random[8] << 8) | random[9]
            else:
                self._counter = (self._counter + 1) & 0xFFFFFFFF
                if self._counter == 0:
                    self._last_ms += 1
            return uuid_v7(self._last_ms, self._counter, random)


_default = IdGenerator()


def new_event_id(now_ms: int) -> str:
    """A new UUIDv7 for ``now_ms`` from the process-wide generator."""
    return _default.new_id(now_ms)
