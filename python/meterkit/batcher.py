"""Cuts batches off the head of the queue within the count and byte limits of one request, and
encodes a batch as the ``POST /v1/events`` body from the events' stored JSON (as
packages/core/src/batcher.ts does)."""

from typing import Callable, List, NamedTuple, Optional, Sequence, TypeVar

from .event import SerializedEvent
from .limits import MAX_BATCH_BYTES, MAX_BATCH_EVENTS

#: ``{"events":[`` + ``]}``
BATCH_ENVELOPE_BYTES = 13


class BatchLimits(NamedTuple):
    max_events: int
    max_bytes: int


def batch_limits(flush_at: int, max_batch_bytes: int) -> BatchLimits:
    """The user's options clamped to what the collector accepts in one request."""
    return BatchLimits(max(1, min(int(flush_at), MAX_BATCH_EVENTS)), max(1, min(int(max_batch_bytes), MAX_BATCH_BYTES)))


def body_bytes(count: int, event_bytes: int) -> int:
    """Body size of a batch holding ``count`` events of ``event_bytes`` total."""
    return BATCH_ENVELOPE_BYTES + event_bytes + max(0, count - 1)


E = TypeVar("E", bound=SerializedEvent)


def take_batch(peek: Callable[[], Optional[E]], shift: Callable[[], E], limits: BatchLimits) -> List[E]:
    """Takes events from the head of a queue while the batch stays within ``limits``. The first
    event is always taken, so an event larger than ``max_bytes`` still travels (alone)."""
    batch: List[E] = []
    size = BATCH_ENVELOPE_BYTES
    while len(batch) < limits.max_events:
        nxt = peek()
        if nxt is None:
            break
        added = nxt.bytes + (1 if batch else 0)
        if batch and size + added > limits.max_bytes:
            break
        size += added
        batch.append(shift())
    return batch


def encode_batch(events: Sequence[SerializedEvent]) -> bytes:
    return b'{"events":[' + b",".join(e.data for e in events) + b"]}"
