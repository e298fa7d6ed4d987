"""reserve()/release() against a real collector: a render reserves its credits, a failed one
releases them, a finished one settles with its tracked event; credits stay exact decimals."""

import os
import unittest
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from meterkit import Meterkit, MeterkitDeliveryError, MeterkitValidationError

from .fault_proxy import Answer, FaultProxy
from .support import ADMIN_KEY, Collector, collector_built, temp_dir
from .test_collector import RecordingSleep

SKIP = None if collector_built() else "the collector is not built: run `npx -y pnpm@12.4.2 install` (it builds) first"


@unittest.skipIf(SKIP, SKIP)
class ReservationTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.collector = Collector(os.path.join(temp_dir(), "meterkit.db"))
        c = cls.collector
        config = {
            "meters": [{"key": "gpu", "event": "render.completed", "aggregation": "sum", "property": "gpuSeconds"}],
            "plans": [{"key": "p", "currency": "USD", "interval": "month", "creditPrice": "0.01", "overage": "block",
                       "charges": [{"key": "gpu", "meter": "gpu", "unit": "credits", "model": "per_unit", "unitAmount": "2"}]}],
        }
        assert c.api("PUT", "/v1/config", config)[0] == 200
        start = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert c.api("POST", "/v1/subscriptions", {"customerId": "cus_r", "plan": "p", "startAt": start})[0] == 201
        assert c.api("POST", "/v1/customers/cus_r/grants", {"credits": "100"})[0] == 201

    @classmethod
    def tearDownClass(cls) -> None:
        cls.collector.stop()

    def test_reserve_release_and_settle_through_a_tracked_event(self) -> None:
        mk = Meterkit(self.collector.url, ADMIN_KEY, flush_interval=60.0, shutdown_at_exit=False)
        self.addCleanup(mk.shutdown, 5)
        failed = mk.reserve("cus_r", Decimal("60"), id="job-failed")
        self.assertEqual((failed.id, failed.granted, failed.available, failed.credits), ("job-failed", True, "40", "60"))
        self.assertEqual(mk.reserve("cus_r", "60", id="job-failed").granted, True)  # the same id holds once
        too_much = mk.reserve("cus_r", "60.5", id="too-much")
        self.assertEqual((too_much.granted, too_much.available), (False, "40"))
        released = mk.release("job-failed")
        self.assertEqual((released.released, released.available), (True, "100"))

        job = mk.reserve("cus_r", "50", ttl_ms=600_000)
        self.assertTrue(job.granted)
        self.assertTrue(job.id.startswith("res_"))
        mk.track("render.completed", "cus_r", {"gpuSeconds": 20}, reservation_id=job.id)
        self.assertTrue(mk.flush(30))
        # 20 GPU seconds x 2 = 40 credits deducted; the 50 held are free again.
        status, balance = self.collector.api("GET", "/v1/customers/cus_r/balance")
        self.assertEqual((balance["balance"], balance["available"], balance["reserved"]), ("60", "60", "0"))

    def test_bad_input_is_refused_before_anything_is_sent(self) -> None:
        mk = Meterkit(self.collector.url, ADMIN_KEY, shutdown_at_exit=False)
        self.addCleanup(mk.shutdown, 5)
        with self.assertRaises(MeterkitValidationError):
            mk.reserve("cus_r", 12.5)  # type: ignore[arg-type]
        with self.assertRaises(MeterkitValidationError):
            mk.reserve("cus_r", "10", ttl_ms=0)
        with self.assertRaises(MeterkitValidationError):
            mk.reserve("", "10")

    def test_refusals_raise_and_passing_failures_are_retried(self) -> None:
        mk = Meterkit(self.collector.url, ADMIN_KEY, shutdown_at_exit=False)
        self.addCleanup(mk.shutdown, 5)
        with self.assertRaises(MeterkitDeliveryError) as caught:
            mk.release("no-such-reservation")
        self.assertEqual(caught.exception.http_status, 404)

        proxy = FaultProxy(self.collector.url, lambda i, seen: Answer(503, '{"error":{"code":"unavailable","message":"x"}}', {"Retry-After": "1"}) if i < 2 else None)
        self.addCleanup(proxy.close)
        sleeps = RecordingSleep()
        through = Meterkit(proxy.url, ADMIN_KEY, shutdown_at_exit=False, sleep=sleeps)
        self.addCleanup(through.shutdown, 5)
        r = through.reserve("cus_r", "1", id="retried-hold")
        self.assertTrue(r.granted)
        self.assertEqual(sleeps.waits, [1.0, 1.0])
        self.assertEqual(len(proxy.requests_to("/v1/reservations")), 3)
        through.release(r.id)


if __name__ == "__main__":
    unittest.main()
