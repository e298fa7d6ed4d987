"""The disk buffer: append-only segment files of checksummed records under ``buffer_dir``, in the
Node SDK's format (a folder written by one SDK is replayed by the other).

Invariants, as in packages/node/src/disk-buffer/disk-buffer.ts: an append returns only after
fdatasync (and, for a new segment, an fsync of the folder); a segment is deleted only when every
record in it was acknowledged (or given up) and none is left unread; torn or corrupt records are
skipped and counted; the whole buffer stays under ``max_bytes``, refusing the newest events past
it. Acknowledgements live in memory only: after a crash a partly acknowledged segment is replayed
whole, and the collector answers ``duplicate`` for what it already has.
"""

import os
import re
import threading
from dataclasses import dataclass
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

from .buffer_lock import acquire_lock
from .buffer_record import decode_records, encode_record
from .errors import MeterkitBufferError
from .event import SerializedEvent
from .limits import DEFAULT_MAX_BUFFER_BYTES

_SEGMENT_NAME = re.compile(r"segment-(\d{12})\.log")
_MIN_READ_CHUNK = 64 * 1024
_fdatasync = getattr(os, "fdatasync", os.fsync)


class BufferedEvent(SerializedEvent):
    """An event read back from the buffer; ``token`` names the segment it came from."""

    __slots__ = ("token",)

    def __init__(self, id: str, data: bytes, token: int) -> None:
        super().__init__(id, data)
        self.token = token


class DiskBufferStats(NamedTuple):
    segments: int
    bytes: int
    events: int
    #: Complete records that failed their checksum, found on recovery or while reading.
    corrupt_records: int
    #: Incomplete last records (a write cut short by a crash), found on recovery.
    torn_records: int


@dataclass
class _Segment:
    seq: int
    path: str
    #: Bytes on disk.
    file_bytes: int = 0
    #: Bytes holding complete records (a torn tail lies past it).
    end: int = 0
    #: Next byte to hand out.
    read_offset: int = 0
    #: Valid records in the segment, and how many of them are settled.
    total: int = 0
    done: int = 0
    #: Found on disk at start (its damaged records were counted then).
    recovered: bool = False


def _sync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open a folder; the data itself is synced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class DiskBuffer:
    def __init__(
        self,
        directory: str,
        max_bytes: int = DEFAULT_MAX_BUFFER_BYTES,
        segment_bytes: int = 4 * 1024 * 1024,
        on_error: Optional[Callable[[MeterkitBufferError], None]] = None,
    ) -> None:
        """Takes the folder's lock (raises MeterkitBufferLockedError if taken) and recovers what it holds."""
        self.directory = directory
        self._max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._on_error = on_error
        os.makedirs(directory, exist_ok=True)
        self._release_lock = acquire_lock(directory)
        self._lock = threading.RLock()
        self._segments: List[_Segment] = []
        self._by_seq: Dict[int, _Segment] = {}
        self._active: Optional[_Segment] = None
        self._active_fd: Optional[int] = None
        self._next_seq = 1
        self._total_bytes = 0
        self._held = 0
        self._corrupt = 0
        self._torn = 0
        self._closed = False
        try:
            self._recover()
        except BaseException:
            self._release_lock()
            raise

    @property
    def size(self) -> int:
        """Events now held, handed out or not."""
        return self._held

    def stats(self) -> DiskBufferStats:
        with self._lock:
            return DiskBufferStats(len(self._segments), self._total_bytes, self._held, self._corrupt, self._torn)

    def _report(self, code: str, message: str) -> None:
        if self._on_error is not None:
            try:
                self._on_error(MeterkitBufferError(code, message))
            except Exception:  # noqa: BLE001 - user callbacks never break the buffer
                pass

    def _recover(self) -> None:
        names = sorted(n for n in os.listdir(self.directory) if _SEGMENT_NAME.fullmatch(n))
        for name in names:
            seq = int(name[8:20])
            path = os.path.join(self.directory, name)
            with open(path, "rb") as f:
                data = f.read()
            records, consumed, corrupt = decode_records(data)
            torn_bytes = len(data) - consumed
            self._next_seq = max(self._next_seq, seq + 1)
            if corrupt:
                self._report("buffer_corrupt_record", f"{corrupt} corrupt record(s) skipped in {path}")
            if torn_bytes:
                self._report("buffer_torn_record", f"torn last record ({torn_bytes} bytes) skipped in {path}")
                self._torn += 1
            self._corrupt += corrupt
            if not records:
                os.unlink(path)
                continue
            self._add(_Segment(seq, path, file_bytes=len(data), end=consumed, total=len(records), recovered=True))
            self._held += len(records)

    def _add(self, segment: _Segment) -> None:
        self._segments.append(segment)
        self._by_seq[segment.seq] = segment
        self._total_bytes += segment.file_bytes

    def append(self, events: Sequence[SerializedEvent]) -> List[SerializedEvent]:
        """Stores events durably (returns after fdatasync); answers those refused past the size cap,
        newest first. Raises OSError or MeterkitBufferError when it cannot store them."""
        with self._lock:
            if self._closed:
                raise MeterkitBufferError("buffer_closed", "the disk buffer is closed")
            lines: List[bytes] = []
            refused: List[SerializedEvent] = []
            size = 0
            for event in events:
                line = encode_record(event)
                if refused or self._total_bytes + size + len(line) > self._max_bytes:
                    refused.append(event)
                else:
                    lines.append(line)
                    size += len(line)
            if not lines:
                return refused
            segment, fd = self._writable(size)
            data = b"".join(lines)
            view = memoryview(data)
            written = 0
            while written < len(data):
                written += os.write(fd, view[written:])  # the file is ours alone: writes land at its end
            _fdatasync(fd)
            segment.file_bytes += size
            segment.end += size
            segment.total += len(lines)
            self._total_bytes += size
            self._held += len(lines)
            return refused

    def _writable(self, size: int) -> "tuple[_Segment, int]":
        """The segment to append to: the active one, or a new one once it is full. Writes always go
        to a new segment after a restart, so a torn tail never has data appended after it."""
        if self._active is not None and self._active_fd is not None:
            if self._active.file_bytes + size > self._segment_bytes and self._active.file_bytes > 0:
                os.close(self._active_fd)
                self._active, self._active_fd = None, None
                self._maybe_delete()  # a sealed segment may be done already
        if self._active is None or self._active_fd is None:
            seq = self._next_seq
            self._next_seq += 1
            path = os.path.join(self.directory, "segment-%012d.log" % seq)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
            _sync_dir(self.directory)  # the new file's name must survive a crash too
            segment = _Segment(seq, path)
            self._add(segment)
            self._active, self._active_fd = segment, fd
        return self._active, self._active_fd

    def read(self, max_events: int, max_bytes: int) -> List[BufferedEvent]:
        """The next events not yet handed out, oldest first, within the limits; empty when none."""
        with self._lock:
            out: List[BufferedEvent] = []
            size = 0
            for segment in list(self._segments):
                while segment.read_offset < segment.end and len(out) < max_events and not self._closed:
                    length = min(segment.end - segment.read_offset, max(_MIN_READ_CHUNK, max_bytes - size + _MIN_READ_CHUNK))
                    with open(segment.path, "rb") as f:
                        f.seek(segment.read_offset)
                        chunk = f.read(length)
                    records, consumed, corrupt = decode_records(chunk, max_events - len(out), max_bytes - size, not out)
                    if corrupt and not segment.recovered:
                        # Damaged after it was written: counted now and settled, so the segment can go.
                        self._corrupt += corrupt
                        segment.done += corrupt
                        self._held -= corrupt
                        self._report("buffer_corrupt_record", f"{corrupt} corrupt record(s) skipped in {segment.path}")
                    segment.read_offset += consumed
                    for r in records:
                        out.append(BufferedEvent(r.id, r.data, segment.seq))
                        size += len(r.data)
                    if consumed == 0 or (not records and not corrupt) or size >= max_bytes:
                        break
                if len(out) >= max_events or size >= max_bytes or segment.read_offset < segment.end:
                    break
            self._maybe_delete()
            return out

    def ack(self, events: Sequence[BufferedEvent]) -> None:
        """Forgets events that are settled (acknowledged, rejected or dropped)."""
        with self._lock:
            for event in events:
                segment = self._by_seq.get(event.token)
                if segment is not None:
                    segment.done += 1
                    self._held -= 1
            self._maybe_delete()

    def _maybe_delete(self) -> None:
        for segment in list(self._segments):
            if segment.done < segment.total or segment.read_offset < segment.end:
                continue
            if segment is self._active and self._active_fd is not None:
                os.close(self._active_fd)
                self._active, self._active_fd = None, None
            del self._by_seq[segment.seq]
            self._segments.remove(segment)
            self._total_bytes -= segment.file_bytes
            try:
                os.unlink(segment.path)
            except OSError as err:
                self._report("buffer_delete_failed", f"could not delete {segment.path}: {err}")

    def close(self) -> None:
        """Closes files and releases the folder's lock."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._active_fd is not None:
                os.close(self._active_fd)
                self._active, self._active_fd = None, None
            self._release_lock()
