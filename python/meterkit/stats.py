"""The counters behind ``stats()`` (CONTRACT §2). All count events, not requests."""

from dataclasses import asdict, dataclass
from typing import Dict


@dataclass(frozen=True)
class Stats:
    #: Accepted by ``track()``.
    tracked: int
    #: Answered ``accepted``, ``duplicate`` or ``queued`` (queue mode).
    acknowledged: int
    #: The part of ``acknowledged`` answered ``duplicate``.
    duplicates: int
    #: Answered ``rejected`` or ``conflict``.
    rejected: int
    #: Re-sent after a failed attempt (each re-send counts).
    retried: int
    #: Now waiting in the disk buffer.
    buffered: int
    #: Given up, through ``on_drop``.
    dropped: int
    #: In requests awaiting an answer.
    in_flight: int

    def as_dict(self) -> Dict[str, int]:
        """The TypeScript SDK's shape: ``{tracked, acknowledged, …, inFlight}``."""
        d = asdict(self)
        d["inFlight"] = d.pop("in_flight")
        return d


@dataclass(frozen=True)
class ShutdownReport:
    """What ``shutdown()`` came to."""

    #: Every event tracked before the call was settled (acknowledged, rejected, dropped or
    #: durably buffered) within the timeout; False when what was left had to be persisted or dropped.
    flushed: bool
    #: Events left in the disk buffer: they are sent by the next client on the same buffer_dir.
    buffered: int
    #: Events given up over the client's life (each went through ``on_drop``).
    dropped: int
    stats: Stats


class Counters:
    __slots__ = ("tracked", "acknowledged", "duplicates", "rejected", "retried", "dropped", "in_flight")

    def __init__(self) -> None:
        self.tracked = self.acknowledged = self.duplicates = self.rejected = 0
        self.retried = self.dropped = self.in_flight = 0

    def snapshot(self, buffered: int) -> Stats:
        return Stats(self.tracked, self.acknowledged, self.duplicates, self.rejected, self.retried, buffered, self.dropped, self.in_flight)
