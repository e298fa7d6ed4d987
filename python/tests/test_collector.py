"""The client against a real collector (``meterkit start``), with the fault proxy between them
where a test needs the network to misbehave: delivery, per-event results, duplicates on retry,
413 splits, Retry-After, backoff, non-retryable answers, and a collector killed mid-stream."""

import json
import os
import threading
import unittest
import warnings
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, List, Tuple

from meterkit import Meterkit, MeterkitDeliveryError, MeterkitError, MeterkitEventError, MeterkitValidationError
from meterkit.retry import backoff_ms

from .fault_proxy import DROP_REQUEST, DROP_RESPONSE, Answer, FaultProxy
from .support import ADMIN_KEY, Collector, collector_built, temp_dir, wait_for

SKIP = None if collector_built() else "the collector is not built: run `npx -y pnpm@12.4.2 install` (it builds) first"


class RecordingSleep:
    """Backoff waits as values: recorded, and over at once (tests wait on conditions, not time)."""

    def __init__(self) -> None:
        self.waits: List[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float, stop: threading.Event) -> None:
        with self._lock:
            self.waits.append(seconds)


class Recorder:
    def __init__(self) -> None:
        self.errors: List[MeterkitError] = []
        self.drops: List[Tuple[List[Dict[str, Any]], str]] = []

    def on_error(self, err: MeterkitError) -> None:
        self.errors.append(err)

    def on_drop(self, events: List[Dict[str, Any]], reason: str) -> None:
        self.drops.append((events, reason))


@unittest.skipIf(SKIP, SKIP)
class CollectorTests(unittest.TestCase):
    collector: Collector

    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = temp_dir()
        cls.collector = Collector(os.path.join(cls.dir, "meterkit.db"))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.collector.stop()

    def client(self, endpoint: str = "", **options: Any) -> Tuple[Meterkit, Recorder]:
        rec = Recorder()
        options.setdefault("flush_interval", 60.0)
        options.setdefault("shutdown_at_exit", False)
        mk = Meterkit(endpoint or self.collector.url, ADMIN_KEY, on_error=rec.on_error, on_drop=rec.on_drop, **options)
        self.addCleanup(mk.shutdown, 5.0)
        return mk, rec

    def proxy(self, rule: Any = None) -> FaultProxy:
        p = FaultProxy(self.collector.url, rule)
        self.addCleanup(p.close)
        return p

    def test_delivers_every_event_tracked_from_many_threads(self) -> None:
        mk, rec = self.client(flush_at=50)
        ids: List[str] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            for i in range(250):
                eid = mk.track("render.completed", "cus_threads", {"gpuSeconds": 1.5, "worker": n, "i": i})
                with lock:
                    ids.append(eid)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertTrue(mk.flush(30))
        self.assertEqual(len(set(ids)), 2000)
        self.assertEqual(sorted(self.collector.stored_ids("cus_threads")), sorted(ids))
        s = mk.stats()
        self.assertEqual((s.tracked, s.acknowledged, s.duplicates, s.rejected, s.dropped, s.in_flight), (2000, 2000, 0, 0, 0, 0))
        self.assertEqual(rec.errors, [])

    def test_stored_event_is_what_was_tracked(self) -> None:
        mk, _ = self.client()
        at = datetime.now(timezone.utc).replace(microsecond=123000) - timedelta(minutes=1)
        eid = mk.track("render.completed", "cus_shape", {"gpuSeconds": 12.0, "cost": Decimal("0.25"), "tags": ("a", "b")}, timestamp=at)
        self.assertTrue(mk.flush(30))
        status, body = self.collector.api("GET", f"/v1/events/{eid}")
        self.assertEqual(status, 200)
        self.assertRegex(eid, r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual(body["timestamp"], at.strftime("%Y-%m-%dT%H:%M:%S.123Z"))
        self.assertEqual(body["properties"], {"gpuSeconds": 12, "cost": 0.25, "tags": ["a", "b"]})
        self.assertEqual(body["source"], "server")

    def test_rejected_and_conflicting_events_are_reported_and_the_rest_delivered(self) -> None:
        mk, rec = self.client()
        ok = mk.track("render.completed", "cus_rej", {"gpuSeconds": 1})
        old = mk.track("render.completed", "cus_rej", timestamp="2020-01-01T00:00:00Z")
        first = mk.track("render.completed", "cus_rej", {"gpuSeconds": 1}, id="job-1:render", timestamp="2026-11-25T10:00:00Z")
        self.assertTrue(mk.flush(30))
        mk.track("render.completed", "cus_rej", {"gpuSeconds": 2}, id="job-1:render", timestamp="2026-11-25T10:00:00Z")
        self.assertTrue(mk.flush(30))
        self.assertEqual(sorted(self.collector.stored_ids("cus_rej")), sorted([ok, first]))
        events = [e for e in rec.errors if isinstance(e, MeterkitEventError)]
        self.assertEqual([(e.event_id, e.status, e.code) for e in events],
                         [(old, "rejected", "timestamp_too_old"), ("job-1:render", "conflict", "conflict")])
        s = mk.stats()
        self.assertEqual((s.tracked, s.acknowledged, s.rejected, s.dropped), (4, 2, 2, 0))

    def test_validation_errors_are_raised_at_track(self) -> None:
        mk, _ = self.client()
        with self.assertRaises(MeterkitValidationError) as caught:
            mk.track("render completed", "cus_1")
        self.assertEqual(caught.exception.field, "event")
        with self.assertRaises(MeterkitValidationError) as caught:
            mk.track("e", "cus_1", {"gpu": {1, 2}})
        self.assertEqual(caught.exception.field, "properties.gpu")
        with self.assertRaises(MeterkitValidationError):
            mk.track("e", "cus_1", timestamp=1795600800)  # type: ignore[arg-type]
        self.assertEqual(mk.stats().tracked, 0)

    def test_a_lost_answer_is_resent_and_answered_duplicate(self) -> None:
        proxy = self.proxy(lambda i, seen: DROP_RESPONSE if seen.path == "/v1/events" and i == 0 else None)
        sleep = RecordingSleep()
        mk, rec = self.client(proxy.url, sleep=sleep)
        ids = [mk.track("render.completed", "cus_dup", {"i": i}) for i in range(10)]
        self.assertTrue(mk.flush(30))
        sent = proxy.requests_to("/v1/events")
        self.assertEqual([s.action for s in sent], ["drop_response", "pass"])
        self.assertEqual(sent[0].ids, sent[1].ids)  # the same ids: the idempotency keys never change
        self.assertEqual(sorted(self.collector.stored_ids("cus_dup")), sorted(ids))
        s = mk.stats()
        self.assertEqual((s.acknowledged, s.duplicates, s.retried, s.dropped), (10, 10, 10, 0))
        self.assertEqual(len(sleep.waits), 1)
        self.assertLess(sleep.waits[0], 0.5)  # the first retry waits less than the 500 ms base
        self.assertTrue(any(isinstance(e, MeterkitDeliveryError) and e.code == "network" for e in rec.errors))

    def test_a_413_splits_the_batch_until_it_fits(self) -> None:
        limit = 4000
        proxy = self.proxy(lambda i, seen: Answer(413, '{"error":{"code":"payload_too_large","message":"too large"}}') if seen.size > limit else None)
        mk, rec = self.client(proxy.url)
        ids = [mk.track("render.completed", "cus_split", {"pad": "x" * 200, "i": i}) for i in range(40)]
        self.assertTrue(mk.flush(30))
        sent = proxy.requests_to("/v1/events")
        passed = [s for s in sent if s.action == "pass"]
        self.assertTrue(all(s.size <= limit for s in passed))
        self.assertEqual(sorted(i for s in passed for i in s.ids), sorted(ids))
        self.assertGreater(len([s for s in sent if s.action == "answer 413"]), 0)
        self.assertEqual(sorted(self.collector.stored_ids("cus_split")), sorted(ids))
        self.assertEqual((mk.stats().acknowledged, mk.stats().dropped), (40, 0))
        self.assertEqual(rec.drops, [])

    def test_an_event_answered_413_alone_is_dropped_visibly(self) -> None:
        proxy = self.proxy(lambda i, seen: Answer(413, "") if seen.size > 1000 else None)
        mk, rec = self.client(proxy.url)
        small = mk.track("e", "cus_413", {"i": 1})
        big = mk.track("e", "cus_413", {"pad": "x" * 2000})
        self.assertTrue(mk.flush(30))
        self.assertEqual(self.collector.stored_ids("cus_413"), [small])
        self.assertEqual([([e["id"] for e in events], reason) for events, reason in rec.drops], [([big], "event_too_large")])

    def test_retry_after_is_honoured_as_seconds_and_as_a_date(self) -> None:
        now = datetime.now(timezone.utc)
        date = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        answers = {0: Answer(429, '{"error":{"code":"rate_limited","message":"slow down"}}', {"Retry-After": "2"}),
                   1: Answer(503, '{"error":{"code":"unavailable","message":"later"}}', {"Retry-After": date})}
        proxy = self.proxy(lambda i, seen: answers.get(i))
        sleep = RecordingSleep()
        mk, rec = self.client(proxy.url, sleep=sleep, clock=lambda: int(now.timestamp() * 1000))
        ids = [mk.track("e", "cus_ra", {"i": i}) for i in range(3)]
        self.assertTrue(mk.flush(30))
        self.assertEqual(sleep.waits[0], 2.0)
        self.assertAlmostEqual(sleep.waits[1], 30.0 - now.microsecond / 1e6, delta=0.002)
        self.assertEqual([s.action for s in proxy.requests_to("/v1/events")], ["answer 429", "answer 503", "pass"])
        self.assertEqual(sorted(self.collector.stored_ids("cus_ra")), sorted(ids))
        self.assertEqual([e.code for e in rec.errors], ["rate_limited", "unavailable"])
        self.assertEqual([e.http_status for e in rec.errors if isinstance(e, MeterkitDeliveryError)], [429, 503])

    def test_backoff_grows_within_its_bounds_then_gives_up_without_a_buffer(self) -> None:
        proxy = self.proxy(lambda i, seen: DROP_REQUEST)
        sleep = RecordingSleep()
        mk, rec = self.client(proxy.url, sleep=sleep, max_retries=6, random=lambda: 0.999999)
        eid = mk.track("e", "cus_backoff")
        self.assertTrue(mk.flush(30))
        self.assertEqual(sleep.waits, [backoff_ms(n, lambda: 0.999999) / 1000 for n in range(1, 7)])
        self.assertEqual(sleep.waits, [0.499, 0.999, 1.999, 3.999, 7.999, 15.999])
        self.assertEqual(len(proxy.requests_to("/v1/events")), 7)
        self.assertEqual([([e["id"] for e in events], reason) for events, reason in rec.drops], [([eid], "retries_exhausted")])
        s = mk.stats()
        self.assertEqual((s.dropped, s.retried, s.acknowledged), (1, 6, 0))

    def test_a_refused_request_is_not_retried(self) -> None:
        rec = Recorder()
        mk = Meterkit(self.collector.url, "mk_sec_not_a_real_key_000000", on_error=rec.on_error, on_drop=rec.on_drop, shutdown_at_exit=False)
        self.addCleanup(mk.shutdown, 5.0)
        mk.track("e", "cus_401")
        self.assertTrue(mk.flush(30))
        self.assertEqual([r for _, r in rec.drops], ["request_rejected"])
        self.assertEqual([(e.code, getattr(e, "http_status", None)) for e in rec.errors], [("unauthorized", 401)])
        self.assertEqual(mk.stats().retried, 0)

    def test_flush_interval_sends_a_partial_batch(self) -> None:
        mk, _ = self.client(flush_interval=0.05, flush_at=1000)
        eid = mk.track("e", "cus_interval")
        wait_for(lambda: mk.stats().acknowledged == 1, "the interval to send the event", 10)
        self.assertEqual(self.collector.stored_ids("cus_interval"), [eid])

    def test_gzips_large_batches(self) -> None:
        proxy = self.proxy()
        mk, _ = self.client(proxy.url, flush_at=1000)
        ids = [mk.track("e", "cus_gzip", {"pad": "y" * 500, "i": i}) for i in range(300)]
        self.assertTrue(mk.flush(30))
        sent = proxy.requests_to("/v1/events")
        self.assertTrue(all(s.gzipped for s in sent) and len(sent) == 1, sent)
        self.assertEqual(len(self.collector.stored_ids("cus_gzip")), len(ids))

    def test_memory_cap_without_a_buffer_drops_visibly(self) -> None:
        mk, rec = self.client(max_queue_events=5, flush_at=1000)  # nothing is sent before flush()
        for i in range(8):
            mk.track("e", "cus_cap", {"i": i})
        self.assertTrue(mk.flush(30))
        self.assertEqual([(len(events), reason) for events, reason in rec.drops], [(1, "queue_full")] * 3)
        self.assertEqual(mk.stats().dropped, 3)

    @unittest.skipUnless(hasattr(os, "fork"), "os.fork is not available here")
    def test_a_forked_worker_gets_its_own_ids_threads_and_connections(self) -> None:
        mk, _ = self.client(flush_at=10)
        mk.track("e", "cus_fork", {"who": "parent"}, id="fork-parent-queued")  # the parent's, in memory at the fork
        mk.track("e", "cus_fork")  # a connection and threads in use before the fork
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads running
            pid = os.fork()
        if pid == 0:  # the child: like a Celery or gunicorn worker
            try:
                ids = [mk.track("e", "cus_fork", {"who": "child"}) for _ in range(20)]
                done = mk.flush(30)
                report = mk.shutdown(10)
                os.write(write_end, json.dumps({"ids": ids, "flushed": done, "acknowledged": report.stats.acknowledged}).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        parent_ids = [mk.track("e", "cus_fork", {"who": "parent"}) for _ in range(20)]
        self.assertTrue(mk.flush(30))
        with os.fdopen(read_end, "rb") as f:
            child = json.loads(f.read() or b"{}")
        os.waitpid(pid, 0)
        self.assertEqual((child["flushed"], child["acknowledged"]), (True, 20))  # the parent's queued events stayed the parent's
        self.assertEqual(set(child["ids"]) & set(parent_ids), set())
        stored = self.collector.stored_ids("cus_fork")
        self.assertEqual(len(stored), 42)
        self.assertLessEqual(set(child["ids"]) | set(parent_ids) | {"fork-parent-queued"}, set(stored))

    def test_shutdown_reports_and_later_tracks_are_dropped_as_closed(self) -> None:
        mk, rec = self.client()
        mk.track("e", "cus_shutdown")
        report = mk.shutdown(10)
        self.assertTrue(report.flushed)
        self.assertEqual((report.buffered, report.dropped, report.stats.acknowledged), (0, 0, 1))
        mk.track("e", "cus_shutdown")
        self.assertEqual([r for _, r in rec.drops], ["closed"])
        self.assertIs(mk.shutdown(), report)


if __name__ == "__main__":
    unittest.main()
