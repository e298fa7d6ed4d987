"""The example worker against a real collector: the rendered job's GPU seconds are deducted
through its reservation, the crashed job's hold is released, the too-large job is refused, and
running main.py as a user would prints what happened."""

import json
import os
import subprocess
import sys
import unittest
from datetime import datetime, timedelta, timezone

EXAMPLE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [EXAMPLE, os.path.join(EXAMPLE, "..", "..", "python")]

from meterkit import Meterkit  # noqa: E402
from tests.support import ADMIN_KEY, Collector, collector_built, temp_dir  # noqa: E402

from worker import Job, estimate_credits, run_job  # noqa: E402

SKIP = None if collector_built() else "the collector is not built: run `npx -y pnpm@12.4.2 install` (it builds) first"


@unittest.skipIf(SKIP, SKIP)
class RenderWorkerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.collector = Collector(os.path.join(temp_dir(), "meterkit.db"))
        self.addCleanup(self.collector.stop)
        c = self.collector
        with open(os.path.join(EXAMPLE, "meterkit.config.json"), encoding="utf-8") as f:
            self.assertEqual(c.api("PUT", "/v1/config", json.load(f))[0], 200)
        start = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for customer in ("cus_w", "cus_main"):
            self.assertEqual(c.api("POST", "/v1/subscriptions", {"customerId": customer, "plan": "studio", "startAt": start})[0], 201)
            self.assertEqual(c.api("POST", f"/v1/customers/{customer}/grants", {"credits": "100"})[0], 201)

    def balance(self, customer: str) -> dict:
        status, body = self.collector.api("GET", f"/v1/customers/{customer}/balance")
        self.assertEqual(status, 200)
        return body

    def test_reserve_render_track_and_release_on_failure(self) -> None:
        mk = Meterkit(self.collector.url, ADMIN_KEY, shutdown_at_exit=False)
        ok = run_job(mk, Job("job-1", "cus_w", frames=240, resolution="1080p"))
        self.assertEqual((ok.status, ok.gpu_seconds), ("rendered", 12))
        self.assertEqual(str(estimate_credits(Job("x", "c", 240, "1080p"))), "26.40")
        crashed = run_job(mk, Job("job-2", "cus_w", frames=120, resolution="4k", fail_after_frames=60))
        self.assertEqual(crashed.status, "failed")
        # Only job-1's hold is left (its event is not sent yet); the crashed job's is released.
        self.assertEqual(self.balance("cus_w")["reserved"], "26.4")
        refused = run_job(mk, Job("job-3", "cus_w", frames=2400, resolution="4k"))
        self.assertEqual(refused.status, "refused")
        report = mk.shutdown(10)
        self.assertEqual((report.stats.acknowledged, report.stats.rejected, report.dropped), (1, 0, 0))
        # 12 GPU seconds x 2 credits: 24 deducted through the settled reservation, nothing held.
        b = self.balance("cus_w")
        self.assertEqual((b["balance"], b["available"], b["reserved"]), ("76", "76", "0"))
        self.assertEqual(self.collector.stored_ids("cus_w"), ["job-1:render"])
        status, usage = self.collector.api("GET", "/v1/customers/cus_w/usage?meter=gpu_seconds&groupBy=resolution")
        self.assertEqual(usage["groups"], [{"group": {"resolution": "1080p"}, "value": "12"}])

    def test_main_runs_as_a_user_would_run_it(self) -> None:
        env = {**os.environ, "MK_ENDPOINT": self.collector.url, "MK_API_KEY": ADMIN_KEY, "MK_CUSTOMER": "cus_main"}
        run = subprocess.run([sys.executable, os.path.join(EXAMPLE, "main.py")], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        lines = [json.loads(line) for line in run.stdout.splitlines()]
        self.assertEqual([(line["job"], line["status"]) for line in lines[:3]],
                         [("job-980", "rendered"), ("job-981", "failed"), ("job-982", "refused")])
        self.assertEqual(lines[3]["stats"]["acknowledged"], 1)
        self.assertEqual(self.balance("cus_main")["balance"], "76")


if __name__ == "__main__":
    unittest.main()
