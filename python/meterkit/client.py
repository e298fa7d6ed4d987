"""The Meterkit client: ``track()`` into a bounded memory queue, batches cut by count, size and
time and sent by background threads with the retry policy; with ``buffer_dir``, a disk buffer that
takes a batch whose attempt failed (so ``flush()`` stays fast in an outage), events past the
memory cap, and what is left at shutdown, and a replay thread that sends what it holds, oldest
first, for as long as it takes. The same design as packages/core/src/base-client.ts and
client.ts, with threads where those have promises."""

import atexit
import os
import random as _random
import threading
import time
import weakref
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Set

from .batcher import BatchLimits, batch_limits, body_bytes, take_batch
from .delivery import Delivery, DropHandler, ErrorHandler
from .disk_buffer import BufferedEvent, DiskBuffer
from .errors import MeterkitBufferError, MeterkitDeliveryError, MeterkitError
from .event import QueuedEvent, SerializedEvent, Timestamp, serialize_event
from .ids import IdGenerator
from . import limits as L
from .reservations import Credits, Release, Reservation, Reservations
from .retry import Outcome, backoff_ms
from .stats import Counters, ShutdownReport, Stats
from .timestamps import now_ms
from .transport import HttpTransport

Sleep = Callable[[float, threading.Event], Any]


def _event_sleep(seconds: float, stop: threading.Event) -> None:
    stop.wait(seconds)


class _Batch:
    """Events that leave the queue together; ``settled`` once their fate is decided and counted."""

    __slots__ = ("events", "min_seq", "settled", "appending")

    def __init__(self, events: List[QueuedEvent]) -> None:
        self.events = events
        self.min_seq = min((e.seq for e in events), default=0)
        self.settled = False
        self.appending = False


class Meterkit:
    """A client for one collector. Thread-safe: share one instance across the threads of a process.

    Times are in seconds (``flush_interval=5.0``, ``timeout=10.0``); the defaults are the
    TypeScript SDK's. ``on_error(err)`` receives every failure (``MeterkitEventError`` for an event
    answered ``rejected`` or ``conflict``, ``MeterkitDeliveryError`` for a failed request,
    ``MeterkitBufferError`` for the disk buffer); ``on_drop(events, reason)`` every event given up.
    Both run on the client's threads and never raise into it.
    """

    def __init__(
        self,
        endpoint: str,
        api_key: str,
        buffer_dir: Optional[str] = None,
        *,
        flush_at: int = L.DEFAULT_FLUSH_AT,
        flush_interval: float = L.DEFAULT_FLUSH_INTERVAL,
        max_batch_bytes: int = L.DEFAULT_MAX_BATCH_BYTES,
        max_queue_events: int = L.DEFAULT_MAX_QUEUE_EVENTS,
        max_retries: int = L.DEFAULT_MAX_RETRIES,
        max_concurrent_requests: int = L.DEFAULT_MAX_CONCURRENT_REQUESTS,
        timeout: float = L.DEFAULT_TIMEOUT,
        max_buffer_bytes: int = L.DEFAULT_MAX_BUFFER_BYTES,
        gzip_min_bytes: int = L.DEFAULT_GZIP_MIN_BYTES,
        on_error: Optional[ErrorHandler] = None,
        on_drop: Optional[DropHandler] = None,
        shutdown_at_exit: bool = True,
        clock: Callable[[], int] = now_ms,
        random: Callable[[], float] = _random.random,
        sleep: Sleep = _event_sleep,
    ) -> None:
        if not isinstance(endpoint, str) or not isinstance(api_key, str) or not api_key:
            raise TypeError("Meterkit(endpoint, api_key): both are required strings")
        self._transport_args = (endpoint, api_key, timeout, gzip_min_bytes)
        self._limits: BatchLimits = batch_limits(flush_at, max_batch_bytes)
        self._flush_interval = float(flush_interval)
        self._max_queue_events = int(max_queue_events)
        self._max_retries = int(max_retries)
        self._senders = max(1, int(max_concurrent_requests))
        self._clock = clock
        self._random = random
        self._sleep = sleep
        self._on_error = on_error
        self._on_drop = on_drop
        self._ids = IdGenerator()
        self._report: Optional[ShutdownReport] = None
        self._shutdown_lock = threading.Lock()
        self._init_runtime()
        self._buffer: Optional[DiskBuffer] = None
        if buffer_dir is not None:
            self._buffer = DiskBuffer(str(buffer_dir), max_bytes=max_buffer_bytes, on_error=self._delivery.error)
        self._start_threads()
        self._at_exit = shutdown_at_exit
        if shutdown_at_exit:
            atexit.register(self._shutdown_at_exit)
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: (lambda mk: mk._after_fork() if mk is not None else None)(ref()))

    def _init_runtime(self) -> None:
        """Locks, queue, counters, transport: what a process owns alone (made again after a fork)."""
        self._transport = HttpTransport(*self._transport_args)
        self._lock = threading.RLock()
        self._work = threading.Condition(self._lock)  # sender threads wait here
        self._settled = threading.Condition(self._lock)  # flush() waits here
        self._replay_cv = threading.Condition(self._lock)
        self._spill_cv = threading.Condition(self._lock)
        self._stop = threading.Event()  # set at shutdown: every backoff wait ends
        self._counters = Counters()
        self._delivery = Delivery(self._transport, self._clock, self._counters, self._lock, self._on_error, self._on_drop)
        self._queue: Deque[QueuedEvent] = deque()
        self._queue_bytes = 0
        self._live: Set[_Batch] = set()
        self._live_events = 0
        self._seq = 0
        self._drain_up_to = 0  # events numbered up to here are sent even in a partial batch
        self._deadline: Optional[float] = None  # when the oldest unsent event's interval ends
        self._state = "open"
        self._spill: Optional[_Batch] = None
        self._replay_failing = False
        self._replay_attempt = 0
        self._replay_dirty = False
        calls = threading.Event()  # never set: a reservation's retry waits are not cut by shutdown()
        self._reservations = Reservations(self._transport, lambda: self._ids.new_id(self._clock()), self._random, self._clock,
                                          lambda seconds: self._sleep(seconds, calls))
        self._threads: List[threading.Thread] = []

    def _start_threads(self) -> None:
        for i in range(self._senders):
            self._start(self._deliver_loop, f"meterkit-send-{i + 1}")
        if self._buffer is not None:
            self._start(self._replay_loop, "meterkit-replay")
            self._start(self._spill_loop, "meterkit-spill")

    def _after_fork(self) -> None:
        """In a forked child (Celery, gunicorn): the parent's threads and connections are not here,
        and its events are its own. The child starts empty, memory-only if the parent had a buffer
        (one process per folder): create the client in each worker process to buffer there."""
        if self._report is not None:
            return  # shut down before the fork: stays closed
        had_buffer = self._buffer is not None
        self._buffer = None
        self._shutdown_lock = threading.Lock()
        self._init_runtime()
        self._start_threads()
        if had_buffer:
            self._delivery.error(MeterkitBufferError(
                "buffer_unavailable_after_fork",
                "this process was forked from the one that owns buffer_dir: events of this process are held in memory only; "
                "create the Meterkit client in each worker process to give each its own buffer_dir"))

    def _start(self, target: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    # --- the public API -------------------------------------------------------------------------

    def track(
        self,
        event: str,
        customer_id: str,
        properties: Optional[Mapping[str, Any]] = None,
        id: Optional[str] = None,
        timestamp: Timestamp = None,
        reservation_id: Optional[str] = None,
    ) -> str:
        """Queues one event and answers its id (a UUIDv7 unless ``id`` is given). Never waits on the
        network or the disk; raises only MeterkitValidationError, for programmer errors."""
        now = self._clock()
        queued = serialize_event(event, customer_id, properties, id, timestamp, reservation_id, now, self._ids.new_id, 0)
        dropped: Optional[str] = None
        with self._lock:
            self._seq += 1
            queued.seq = self._seq
            self._counters.tracked += 1
            if self._state == "closed":
                dropped = "closed"
            elif len(self._queue) + self._live_events >= self._max_queue_events:
                if self._buffer is None:
                    dropped = "queue_full"
                else:
                    self._overflow(queued)
            else:
                self._queue.append(queued)
                self._queue_bytes += queued.bytes
                if self._full():
                    self._work.notify()
                elif self._deadline is None:
                    self._deadline = time.monotonic() + self._flush_interval
                    self._work.notify()
        if dropped is not None:
            self._delivery.drop([queued], dropped)
        return queued.id

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Blocks until every event tracked before the call is acknowledged, answered rejected,
        durably in the buffer, or given up through on_drop; True unless ``timeout`` (seconds) passed first."""
        if threading.current_thread() in self._threads:
            return False  # from a callback: waiting here would wait on ourselves
        with self._lock:
            target = self._seq
            if self._is_settled(target):
                return True
            if target > self._drain_up_to:
                self._drain_up_to = target
            self._work.notify_all()
            return self._settled.wait_for(lambda: self._is_settled(target), timeout)

    def shutdown(self, timeout: float = L.DEFAULT_SHUTDOWN_TIMEOUT) -> ShutdownReport:
        """Flushes for at most ``timeout`` seconds, then stops the client's threads. What is left goes
        to the buffer (or through on_drop without one). Answers a ShutdownReport; calling it again
        answers the same report. Registered with ``atexit`` unless ``shutdown_at_exit=False``."""
        with self._shutdown_lock:
            if self._report is None:
                self._report = self._close(timeout)
                if self._at_exit:
                    atexit.unregister(self._shutdown_at_exit)
            return self._report

    def stats(self) -> Stats:
        with self._lock:
            return self._counters.snapshot(self._buffer.size if self._buffer is not None else 0)

    def reserve(self, customer_id: str, credits: Credits, ttl_ms: Optional[int] = None, id: Optional[str] = None) -> Reservation:
        """Holds credits for a job before it starts (``POST /v1/reservations``). Track the job's event
        with ``reservation_id=r.id`` to settle it; ``release(r.id)`` if it fails. Blocks; raises
        MeterkitDeliveryError when the collector refuses or cannot be reached after a few attempts."""
        return self._reservations.reserve(customer_id, credits, ttl_ms, id)

    def release(self, id: str) -> Release:
        """Frees a reservation's hold (the job failed or was cancelled)."""
        return self._reservations.release(id)

    def __enter__(self) -> "Meterkit":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # --- the memory path ------------------------------------------------------------------------

    def _full(self) -> bool:
        return len(self._queue) >= self._limits.max_events or body_bytes(len(self._queue), self._queue_bytes) >= self._limits.max_bytes

    def _take(self) -> List[QueuedEvent]:
        def shift() -> QueuedEvent:
            e = self._queue.popleft()
            self._queue_bytes -= e.bytes
            return e

        return take_batch(lambda: self._queue[0] if self._queue else None, shift, self._limits)

    def _add_batch(self, events: List[QueuedEvent]) -> _Batch:
        batch = _Batch(events)
        self._live.add(batch)
        self._live_events += len(events)
        return batch

    def _settle(self, batch: _Batch) -> bool:
        """Marks a batch's fate as decided; False if someone else decided it first."""
        with self._lock:
            if batch.settled:
                return False
            batch.settled = True
            self._live.discard(batch)
            self._live_events -= len(batch.events)
            self._settled.notify_all()
            return True

    def _is_settled(self, target: int) -> bool:
        if self._queue and self._queue[0].seq <= target:
            return False
        return not any(b.min_seq <= target for b in self._live)

    def _deliver_loop(self) -> None:
        while True:
            with self._lock:
                batch = None
                while batch is None:
                    if self._state == "closed":
                        return
                    if self._queue:
                        now = time.monotonic()
                        if self._deadline is None:
                            self._deadline = now + self._flush_interval
                        elif now >= self._deadline:
                            self._deadline = None
                            self._drain_up_to = self._seq
                        if self._full() or self._queue[0].seq <= self._drain_up_to:
                            batch = self._add_batch(self._take())
                            if not self._queue:
                                self._deadline = None
                            elif self._full() or self._queue[0].seq <= self._drain_up_to:
                                self._work.notify()  # more is due: another sender takes it
                            break
                        self._work.wait(None if self._deadline is None else max(0.0, self._deadline - now))
                    else:
                        self._work.wait()
            self._run_batch(batch)

    def _run_batch(self, batch: _Batch) -> None:
        """Delivers one batch from memory: retries with backoff, or hands it to the buffer."""
        if self._divert(batch, False):
            return
        attempt = 0
        while True:
            outcome = self._delivery.attempt(batch.events)
            if batch.settled:
                return  # taken over by shutdown()
            if outcome.kind == "results":
                if self._settle(batch):
                    self._delivery.apply_results(batch.events, outcome.results or [])
                return
            if outcome.kind == "fatal":
                if self._settle(batch):
                    self._report_failure(outcome, len(batch.events), "the collector refused the request; not retried")
                    self._delivery.drop(batch.events, "request_rejected")
                return
            if outcome.kind == "split":
                if len(batch.events) == 1:
                    if self._settle(batch):
                        self._delivery.drop(batch.events, "event_too_large")
                    return
                # Halves are registered before the parent settles, so no flush() returns in between.
                mid = (len(batch.events) + 1) // 2
                with self._lock:
                    first = self._add_batch(batch.events[:mid])
                    second = self._add_batch(batch.events[mid:])
                self._settle(batch)
                self._run_batch(first)
                self._run_batch(second)
                return
            to_buffer = self._buffer is not None
            self._report_failure(outcome, len(batch.events), "moving to the buffer" if to_buffer else "will retry")
            if to_buffer and self._divert(batch, True):
                return
            if outcome.retry_after_ms is None:
                attempt += 1
            if attempt > self._max_retries:
                if self._settle(batch):
                    self._delivery.drop(batch.events, "retries_exhausted")
                return
            self._wait_ms(outcome.retry_after_ms if outcome.retry_after_ms is not None else backoff_ms(attempt, self._random))
            if batch.settled or self._state == "closed":
                return
            with self._lock:
                self._counters.retried += len(batch.events)

    def _report_failure(self, outcome: Outcome, count: int, next_step: str) -> None:
        self._delivery.error(MeterkitDeliveryError(outcome.code, f"{outcome.message} ({count} events; {next_step})", count, outcome.status))

    def _wait_ms(self, ms: float) -> None:
        if not self._stop.is_set():
            self._sleep(ms / 1000, self._stop)

    # --- the buffer -----------------------------------------------------------------------------

    def _divert(self, batch: _Batch, after_failure: bool) -> bool:
        """Takes a batch off the network path (before its first attempt while the replay fails, or
        after a failed attempt) into the buffer; False when there is none or it failed."""
        if self._buffer is None or (not after_failure and not self._replay_failing):
            return False
        return self._hand_to_buffer(batch)

    def _overflow(self, event: QueuedEvent) -> None:
        """An event past the memory cap (lock held): gathered in one spill batch for the buffer."""
        if self._spill is not None:
            self._spill.events.append(event)
            self._live_events += 1
        else:
            self._spill = self._add_batch([event])
            self._spill_cv.notify()

    def _spill_loop(self) -> None:
        while True:
            with self._lock:
                while self._spill is None and self._state != "closed":
                    self._spill_cv.wait()
                batch, self._spill = self._spill, None
            if batch is None:
                return
            if not self._hand_to_buffer(batch) and self._state != "closed":
                self._run_batch(batch)

    def _hand_to_buffer(self, batch: _Batch) -> bool:
        """Appends a batch to the buffer; False (the batch still ours) if the buffer failed."""
        buffer = self._buffer
        with self._lock:
            if buffer is None or batch.settled:
                return batch.settled
            batch.appending = True
        try:
            refused = buffer.append(batch.events)
        except Exception as err:  # noqa: BLE001
            with self._lock:
                batch.appending = False
            self._buffer_error("write", err)
            return False
        self._settle(batch)
        self._delivery.drop(refused, "buffer_full")
        self._wake_replay()
        return True

    def _buffer_error(self, operation: str, err: BaseException) -> None:
        """``buffer_write_failed``, ``buffer_read_failed``, ``buffer_ack_failed``, ``buffer_close_failed``."""
        self._delivery.error(MeterkitBufferError(f"buffer_{operation}_failed", f"buffer {operation} failed: {err}"))

    def _wake_replay(self) -> None:
        with self._lock:
            self._replay_dirty = True
            self._replay_cv.notify()

    def _replay_loop(self) -> None:
        """Sends what the buffer holds, oldest first, retrying with backoff for as long as it takes."""
        buffer = self._buffer
        assert buffer is not None
        while self._state != "closed":
            with self._lock:
                self._replay_dirty = False
            try:
                events = buffer.read(self._limits.max_events, self._limits.max_bytes)
            except Exception as err:  # noqa: BLE001
                self._buffer_error("read", err)
                self._replay_attempt += 1
                self._wait_ms(backoff_ms(self._replay_attempt, self._random))
                continue
            if not events:
                with self._lock:
                    if not self._replay_dirty and self._state != "closed":
                        self._replay_cv.wait()
                continue
            self._replay_batch(buffer, events)

    def _replay_batch(self, buffer: DiskBuffer, events: List[BufferedEvent]) -> None:
        while True:
            outcome = self._delivery.attempt(events)
            if outcome.kind == "retry":
                self._replay_failing = True
                if self._state == "closed":
                    return  # still in the buffer: the next process replays it
                self._report_failure(outcome, len(events), "kept in the buffer, will retry")
                if outcome.retry_after_ms is None:
                    self._replay_attempt += 1
                self._wait_ms(outcome.retry_after_ms if outcome.retry_after_ms is not None else backoff_ms(self._replay_attempt, self._random))
                if self._state == "closed":
                    return
                with self._lock:
                    self._counters.retried += len(events)
                continue
            self._replay_failing = False
            self._replay_attempt = 0
            if outcome.kind == "split" and len(events) > 1:
                mid = (len(events) + 1) // 2
                self._replay_batch(buffer, events[:mid])
                self._replay_batch(buffer, events[mid:])
                return
            if outcome.kind == "results":
                self._delivery.apply_results(events, outcome.results or [])
            elif outcome.kind == "split":
                self._delivery.drop(events, "event_too_large")
            else:
                self._report_failure(outcome, len(events), "the collector refused the request; not retried")
                self._delivery.drop(events, "request_rejected")
            try:
                buffer.ack(events)
            except Exception as err:  # noqa: BLE001
                self._buffer_error("ack", err)
            return

    # --- shutdown -------------------------------------------------------------------------------

    def _close(self, timeout: float) -> ShutdownReport:
        with self._lock:
            self._state = "closing"
        flushed = self.flush(timeout)
        with self._lock:
            self._state = "closed"
            self._work.notify_all()
            self._replay_cv.notify_all()
            self._spill_cv.notify_all()
            # Whatever is not decided yet (except batches being appended) leaves as one last batch,
            # registered before the others settle so that a pending flush() cannot return early.
            taken = [b for b in self._live if not b.appending]
            leftovers = list(self._queue)
            self._queue.clear()
            self._queue_bytes = 0
            for b in taken:
                leftovers.extend(b.events)
            last = self._add_batch(leftovers) if leftovers else None
        for b in taken:
            self._settle(b)
        self._stop.set()
        if last is not None and not self._hand_to_buffer(last):
            if self._settle(last):
                self._delivery.drop(last.events, "shutdown")
        self._transport.close()
        me = threading.current_thread()
        for t in self._threads:
            if t is not me:  # shutdown() from a callback runs on one of them
                t.join(timeout=max(1.0, self._transport.timeout))
        if self._buffer is not None:
            try:
                self._buffer.close()
            except Exception as err:  # noqa: BLE001
                self._buffer_error("close", err)
        with self._lock:
            self._settled.notify_all()
        stats = self.stats()
        return ShutdownReport(flushed=flushed, buffered=stats.buffered, dropped=stats.dropped, stats=stats)

    def _shutdown_at_exit(self) -> None:
        try:
            self.shutdown()
        except Exception:  # noqa: BLE001 - the interpreter is exiting: never raise there
            pass


__all__ = ["Meterkit", "MeterkitError"]
