"""One attempt at one batch, and what its answer means for each event: the part of sending that
the memory path and the buffer-replay path share (as packages/core/src/delivery.ts)."""

import threading
from typing import Any, Callable, Dict, List, Optional, Sequence

from .batcher import encode_batch
from .errors import MeterkitError, MeterkitEventError
from .event import SerializedEvent
from .retry import Outcome, classify
from .stats import Counters
from .transport import HttpTransport

ErrorHandler = Callable[[MeterkitError], Any]
DropHandler = Callable[[List[Dict[str, Any]], str], Any]


class Delivery:
    def __init__(self, transport: HttpTransport, clock: Callable[[], int], counters: Counters, lock: threading.RLock,
                 on_error: Optional[ErrorHandler], on_drop: Optional[DropHandler]) -> None:
        self._transport = transport
        self._clock = clock
        self._counters = counters
        self._lock = lock
        self._on_error = on_error
        self._on_drop = on_drop

    def attempt(self, events: Sequence[SerializedEvent]) -> Outcome:
        """Sends the batch once; never raises."""
        n = len(events)
        with self._lock:
            self._counters.in_flight += n
        try:
            a = self._transport.send(encode_batch(events))
        finally:
            with self._lock:
                self._counters.in_flight -= n
        return classify(a.status, a.body, a.retry_after, n, self._clock(), a.error, a.message)

    def apply_results(self, events: Sequence[SerializedEvent], results: Sequence[Dict[str, Any]]) -> None:
        """Counts per-event answers; ``rejected``/``conflict`` go to on_error and are never retried."""
        errors: List[MeterkitError] = []
        with self._lock:
            c = self._counters
            for event, result in zip(events, results):
                status = result["status"]
                # ``queued`` (a collector in queue mode): held by the durable log, delivered like ``accepted``.
                if status == "accepted" or status == "duplicate" or status == "queued":
                    c.acknowledged += 1
                    if status == "duplicate":
                        c.duplicates += 1
                else:
                    c.rejected += 1
                    code = result.get("code") or status
                    errors.append(MeterkitEventError(event.id, status, str(code), str(result.get("message") or status)))
        for err in errors:
            self.error(err)

    def drop(self, events: Sequence[SerializedEvent], reason: str) -> None:
        """Gives events up, visibly: counted and handed to on_drop."""
        if not events:
            return
        with self._lock:
            self._counters.dropped += len(events)
        if self._on_drop is not None:
            try:
                self._on_drop([e.wire() for e in events], reason)
            except Exception:  # noqa: BLE001 - a user callback never breaks delivery
                pass

    def error(self, error: MeterkitError) -> None:
        if self._on_error is not None:
            try:
                self._on_error(error)
            except Exception:  # noqa: BLE001 - a user callback never breaks delivery
                pass
