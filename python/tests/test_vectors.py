"""The test vectors shared with the TypeScript suite (test/vectors/sdk-vectors.test.ts): the Python
SDK must encode, validate, batch, back off, read Retry-After and timestamps, make UUIDv7s and
write buffer records exactly as the TypeScript SDK does."""

import json
import os
import unittest
from typing import Any

from meterkit.batcher import batch_limits, body_bytes, take_batch
from meterkit.buffer_record import decode_records, encode_record
from meterkit.errors import MeterkitValidationError
from meterkit.event import SerializedEvent, serialize_event
from meterkit.ids import uuid_v7
from meterkit.retry import backoff_ms, is_retryable_status, parse_retry_after
from meterkit.timestamps import format_timestamp, parse_rfc3339

from .support import VECTORS

EPSILON = 2.220446049250313e-16
SNAKE = {"customerId": "customer_id", "reservationId": "reservation_id"}


def vectors(name: str) -> Any:
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def decode(value: Any) -> Any:
    """Tagged values of the vector files: {"$number": "NaN"}, {"$repeat": [text, count]}."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "$number" in value:
            return float(value["$number"])
        if "$repeat" in value:
            text, count = value["$repeat"]
            return text * count
        return {k: decode(v) for k, v in value.items()}
    return value


def serialize(case_input: Any, now_ms: int, generated_id: str):
    i = decode(case_input)
    return serialize_event(i.get("event"), i.get("customerId"), i.get("properties"), i.get("id"), i.get("timestamp"),
                           i.get("reservationId"), now_ms, lambda _ms: generated_id, 1)


class EventVectors(unittest.TestCase):
    def test_valid_events_encode_byte_for_byte(self) -> None:
        v = vectors("events.json")
        for case in v["valid"]:
            with self.subTest(case["name"]):
                e = serialize(case["input"], v["nowMs"], v["generatedId"])
                self.assertEqual(e.data.decode("utf-8"), case["json"])
                self.assertEqual(e.bytes, case["bytes"])

    def test_invalid_events_name_the_field(self) -> None:
        v = vectors("events.json")
        for case in v["invalid"]:
            with self.subTest(case["name"]):
                with self.assertRaises(MeterkitValidationError) as caught:
                    serialize(case["input"], v["nowMs"], v["generatedId"])
                field = case["field"]
                self.assertEqual(caught.exception.field, SNAKE.get(field, field))


class BatchVectors(unittest.TestCase):
    def test_batches_are_cut_like_the_typescript_core(self) -> None:
        for case in vectors("batches.json")["cases"]:
            with self.subTest(case["name"]):
                limits = batch_limits(case["flushAt"], case["maxBatchBytes"])
                self.assertEqual(limits, (case["limits"]["maxEvents"], case["limits"]["maxBytes"]))
                sizes = [size for n, size in case["runs"] for _ in range(n)]
                queue = [SerializedEvent(f"e{i}", b"x" * size) for i, size in enumerate(sizes)]
                batches = []
                while queue:
                    batches.append(len(take_batch(lambda: queue[0] if queue else None, lambda: queue.pop(0), limits)))
                self.assertEqual(batches, case["batches"])
                self.assertEqual(body_bytes(len(sizes), sum(sizes)), case["bodyBytes"])


class RetryVectors(unittest.TestCase):
    def test_backoff_bounds_per_attempt(self) -> None:
        b = vectors("backoff.json")
        for c in b["ceilings"]:
            self.assertEqual(backoff_ms(c["attempt"], lambda: 0.0), 0)
            self.assertEqual(backoff_ms(c["attempt"], lambda: 1 - EPSILON), c["ceilingMs"] - 1)
            self.assertEqual(c["ceilingMs"], min(b["capMs"], b["baseMs"] * 2 ** (c["attempt"] - 1)))
        for c in b["cases"]:
            with self.subTest(attempt=c["attempt"], random=c["random"]):
                self.assertEqual(backoff_ms(c["attempt"], lambda: c["random"]), c["ms"])

    def test_retryable_statuses(self) -> None:
        b = vectors("backoff.json")
        for s in b["retryable"]:
            self.assertTrue(is_retryable_status(s), s)
        for s in b["final"]:
            self.assertFalse(is_retryable_status(s), s)

    def test_retry_after(self) -> None:
        v = vectors("retry-after.json")
        for c in v["cases"]:
            with self.subTest(value=c["value"]):
                self.assertEqual(parse_retry_after(c["value"], v["nowMs"]), c["ms"])
        for c in v["differ"]:  # RFC 9110 strictly, where the TypeScript core's Date.parse is lenient
            with self.subTest(value=c["value"]):
                self.assertEqual(parse_retry_after(c["value"], v["nowMs"]), c["pythonMs"])


class FormatVectors(unittest.TestCase):
    def test_rfc3339(self) -> None:
        for c in vectors("timestamps.json")["cases"]:
            with self.subTest(text=c["text"]):
                self.assertEqual(parse_rfc3339(c["text"]), c["ms"])
                if c["ms"] is not None:
                    self.assertEqual(format_timestamp(c["ms"]), c["iso"])

    def test_uuid_v7_layout(self) -> None:
        for c in vectors("uuid-v7.json")["cases"]:
            self.assertEqual(uuid_v7(c["ms"], c["counter"], bytes.fromhex(c["random"])), c["id"])

    def test_disk_buffer_records(self) -> None:
        v = vectors("buffer-records.json")
        for c in v["encode"]:
            data = c["json"].encode("utf-8")
            self.assertEqual(encode_record(SerializedEvent(json.loads(data)["id"], data)).decode("utf-8"), c["line"])
        for c in v["decode"]:
            with self.subTest(c["name"]):
                r = decode_records(c["chunk"].encode("utf-8"))
                self.assertEqual(([x.id for x in r.records], r.consumed, r.corrupt), (c["ids"], c["consumed"], c["corrupt"]))


if __name__ == "__main__":
    unittest.main()
