"""One buffered event on disk, in the Node SDK's format (packages/node/src/disk-buffer/record.ts):
a line ``<crc32 as 8 hex digits><event JSON>\\n``. JSON never holds a raw newline, so a damaged
record never hides its neighbours: framing resumes at the next line."""

import json
import re
import zlib
from typing import List, NamedTuple, Optional

from .event import SerializedEvent

_HEX8 = re.compile(rb"[0-9a-f]{8}")


def encode_record(event: SerializedEvent) -> bytes:
    return b"%08x" % zlib.crc32(event.data) + event.data + b"\n"


class DecodedRecord(NamedTuple):
    id: str
    data: bytes
    #: Bytes of the whole line, newline included.
    line_bytes: int


class DecodeResult(NamedTuple):
    records: List[DecodedRecord]
    #: Bytes consumed: up to and including the last complete line looked at.
    consumed: int
    #: Complete lines that failed their checksum or did not hold an event.
    corrupt: int


def decode_records(chunk: bytes, max_records: float = float("inf"), max_bytes: float = float("inf"), take_first: bool = True) -> DecodeResult:
    """Decodes complete lines from ``chunk``, stopping after ``max_records`` records or before the
    record that would take the payload total past ``max_bytes`` (the first is taken regardless
    when ``take_first``, so that an event larger than the limit still travels)."""
    records: List[DecodedRecord] = []
    consumed = corrupt = size = 0
    while len(records) < max_records:
        nl = chunk.find(b"\n", consumed)
        if nl < 0:
            break
        record = _decode_line(chunk[consumed:nl], nl + 1 - consumed)
        if record is None:
            corrupt += 1
        else:
            if (records or not take_first) and size + len(record.data) > max_bytes:
                break
            size += len(record.data)
            records.append(record)
        consumed = nl + 1
    return DecodeResult(records, consumed, corrupt)


def _decode_line(line: bytes, line_bytes: int) -> Optional[DecodedRecord]:
    if len(line) < 9 or _HEX8.fullmatch(line, 0, 8) is None:
        return None
    payload = line[8:]
    if zlib.crc32(payload) != int(line[:8], 16):
        return None
    try:
        event = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        return None
    return DecodedRecord(event["id"], payload, line_bytes)
