"""track()'s encoding and checks beyond the shared vectors: Python's own types (datetime, Decimal,
tuples, numeric types of other libraries), ECMAScript number layout as a round-trip property,
UUIDv7 ordering under threads, and timestamps against the standard library's datetime."""

import json
import random
import re
import struct
import threading
import unittest
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

from meterkit.errors import MeterkitValidationError
from meterkit.event import js_number, serialize_event
from meterkit.ids import IdGenerator
from meterkit.reservations import credits_text
from meterkit.timestamps import MAX_MS, MIN_MS, datetime_ms, format_timestamp, parse_rfc3339

NOW = 1795600800007
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def wire(properties=None, **kw):
    e = serialize_event(kw.get("event", "e"), kw.get("customer_id", "c"), properties, kw.get("id", "x"), kw.get("timestamp"),
                        None, NOW, lambda _ms: "gen", 1)
    return json.loads(e.data), e


class EncodingTests(unittest.TestCase):
    def test_numbers_round_trip_and_integral_floats_lose_their_point(self) -> None:
        rng = random.Random(7)
        for _ in range(20000):
            x = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            if x != x or x in (float("inf"), float("-inf")):
                continue
            text = js_number(x)
            self.assertEqual(float(text), x, text)
            self.assertNotIn("e+0", text)
            self.assertNotIn("e-0", text)
            if x.is_integer() and abs(x) < 2**53:
                self.assertEqual(text, str(int(x)))
            _, e = wire({"x": x})
            self.assertIn(b'"x":' + text.encode() + b"}", e.data)

    def test_python_values_become_the_json_a_user_expects(self) -> None:
        at = datetime(2026, 11, 25, 11, 0, 0, 250000, tzinfo=timezone(timedelta(hours=1)))
        props, _ = wire({"at": at, "cost": Decimal("0.10"), "third": Fraction(1, 4), "tags": ("a", "b"), "n": None, "ok": True})
        self.assertEqual(props["properties"], {"at": "2026-11-25T10:00:00.250Z", "cost": 0.1, "third": 0.25, "tags": ["a", "b"], "n": None, "ok": True})
        _, e = wire({"cost": Decimal("12.50")})
        self.assertIn(b'"cost":12.50', e.data)  # a Decimal keeps its exact digits on the wire

    def test_timestamps_from_datetimes(self) -> None:
        aware = datetime(2026, 11, 25, 10, 0, 0, 7999, tzinfo=timezone.utc)
        self.assertEqual(wire(timestamp=aware)[0]["timestamp"], "2026-11-25T10:00:00.007Z")
        naive = datetime(2026, 11, 25, 10, 0, 0)
        self.assertEqual(wire(timestamp=naive)[0]["timestamp"], format_timestamp(int(naive.timestamp() * 1000)))
        self.assertEqual(wire()[0]["timestamp"], "2026-11-25T10:00:00.007Z")

    def test_programmer_errors_name_the_field(self) -> None:
        cases = [
            ({"s": {1, 2}}, "properties.s"),
            ({"k": {1: "x"}}, "properties.k.1"),
            ({"b": b"bytes"}, "properties.b"),
            ({"x": [1, float("nan")]}, "properties.x[1]"),
            ({"d": Decimal("NaN")}, "properties.d"),
        ]
        for props, field in cases:
            with self.subTest(field=field):
                with self.assertRaises(MeterkitValidationError) as caught:
                    wire(props)
                self.assertEqual(caught.exception.field, field)
        cyclic: dict = {}
        node = cyclic
        for _ in range(40):
            node["next"] = {}
            node = node["next"]
        node["back"] = cyclic
        with self.assertRaises(MeterkitValidationError) as caught:
            wire(cyclic)
        self.assertEqual(caught.exception.field, "properties")
        for bad in (1795600800, 1795600800.5, True):
            with self.assertRaises(MeterkitValidationError):
                wire(timestamp=bad)

    def test_lone_surrogates_are_escaped_as_json_stringify_does(self) -> None:
        _, e = wire({"s": "a\ud800b"})
        self.assertIn(b'"a\\ud800b"', e.data)


class IdTests(unittest.TestCase):
    def test_ids_are_uuid_v7_unique_and_ordered_within_a_millisecond(self) -> None:
        gen = IdGenerator()
        ids = [gen.new_id(NOW + (i >> 3)) for i in range(10000)]
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual(sorted(ids), ids)
        self.assertTrue(all(UUID7.match(i) for i in ids[:100]))
        # The clock going back never breaks the order.
        later = [gen.new_id(1000), gen.new_id(999)]
        self.assertEqual(sorted(later), later)
        self.assertLess(ids[-1], later[0])

    def test_ids_made_by_many_threads_never_collide(self) -> None:
        gen = IdGenerator()
        out: list = []
        lock = threading.Lock()

        def make() -> None:
            mine = [gen.new_id(NOW) for _ in range(2000)]
            with lock:
                out.extend(mine)

        threads = [threading.Thread(target=make) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(set(out)), 16000)


class TimestampTests(unittest.TestCase):
    def test_format_and_parse_agree_with_datetime(self) -> None:
        rng = random.Random(3)
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        for _ in range(20000):
            ms = rng.randint(-62135596800000, MAX_MS)  # years 0001-9999: what datetime can hold
            dt = epoch + timedelta(milliseconds=ms)
            text = format_timestamp(ms)
            self.assertEqual(text, dt.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
            self.assertEqual(parse_rfc3339(text), ms)
            self.assertEqual(datetime_ms(dt), ms)
        self.assertEqual(format_timestamp(MIN_MS), "0000-01-01T00:00:00.000Z")

    def test_threads_formatting_other_seconds_never_mix_them_up(self) -> None:
        wrong: list = []

        def run(offset: int) -> None:
            for i in range(20000):
                ms = NOW + ((i * 7 + offset) % 50) * 1000 + offset
                if parse_rfc3339(format_timestamp(ms)) != ms:
                    wrong.append(ms)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(wrong, [])
        with self.assertRaises(ValueError):
            format_timestamp(MAX_MS + 1)


class CreditsTests(unittest.TestCase):
    def test_credits_are_exact_decimals_never_floats(self) -> None:
        self.assertEqual(credits_text("12.5"), "12.5")
        self.assertEqual(credits_text(Decimal("0.00002")), "0.00002")
        self.assertEqual(credits_text(Decimal("1E+2")), "100")
        self.assertEqual(credits_text(40), "40")
        for bad in (12.5, True, "-1", "1e3", "", Decimal("-0.5"), Decimal("Infinity"), None):
            with self.subTest(bad=bad):
                with self.assertRaises(MeterkitValidationError) as caught:
                    credits_text(bad)
                self.assertEqual(caught.exception.field, "credits")


if __name__ == "__main__":
    unittest.main()
