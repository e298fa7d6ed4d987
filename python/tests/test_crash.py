"""Guarantee §7.2 for the Python SDK, under SIGKILL: events tracked with ``buffer_dir`` and
followed by a returned flush() reach the collector exactly once, whether the collector is killed
mid-stream and restarted, or the SDK's own process is killed and a new one replays the folder.
Counted from the collector's ``GET /v1/events`` and from a ``count`` meter's usage."""

import os
import random
import signal
import subprocess
import sys
import threading
import unittest
from typing import List

from meterkit import Meterkit

from .fault_proxy import DROP_REQUEST, DROP_RESPONSE, Answer, FaultProxy
from .support import ADMIN_KEY, ROOT, Collector, collector_built, temp_dir, wait_for

SKIP = None if collector_built() else "the collector is not built: run `npx -y pnpm@12.4.2 install` (it builds) first"
PYTHON_DIR = os.path.join(ROOT, "python")
CONFIG = {"meters": [{"key": "ticks", "event": "crash.tick", "aggregation": "count"}]}


def usage_count(collector: Collector, customer: str) -> str:
    status, body = collector.api("GET", f"/v1/customers/{customer}/usage?meter=ticks")
    assert status == 200, body
    return body["value"]


def flushed_ids(path: str) -> List[str]:
    """Ids written after a returned flush(): complete lines only (a kill may cut the last one)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    return [line for line in lines[:-1] if line]


@unittest.skipIf(SKIP, SKIP)
class CrashTests(unittest.TestCase):
    def test_collector_killed_mid_stream_then_restarted_loses_and_doubles_nothing(self) -> None:
        d = temp_dir("mk-py-crash-")
        collector = Collector(os.path.join(d, "meterkit.db"))
        self.addCleanup(lambda: collector.stop())
        self.assertEqual(collector.api("PUT", "/v1/config", CONFIG)[0], 200)
        port = collector.port
        mk = Meterkit(collector.url, ADMIN_KEY, buffer_dir=os.path.join(d, "buffer"), flush_at=50, flush_interval=60.0,
                      random=lambda: 0.05, shutdown_at_exit=False)
        self.addCleanup(mk.shutdown, 10)
        tracked: List[str] = []
        outage = threading.Event()
        restarted = threading.Event()

        def feed() -> None:
            for i in range(3000):
                tracked.append(mk.track("crash.tick", "cus_kill", {"i": i}, id=f"kill-{i}"))
                if i % 100 == 99:
                    self.assertTrue(mk.flush(60))  # with a buffer: returns even while the collector is down
                if i == 1500:
                    outage.wait(60)  # track through the outage until the collector is back
                    restarted.wait(60)
            mk.flush(60)

        feeder = threading.Thread(target=feed)
        feeder.start()
        wait_for(lambda: mk.stats().acknowledged >= 500, "500 events acknowledged", 60)
        collector.kill()  # kill -9, mid-stream
        outage.set()
        wait_for(lambda: mk.stats().buffered > 0, "events buffered during the outage", 60)
        collector = Collector(os.path.join(d, "meterkit.db"), port=port)
        restarted.set()
        feeder.join(120)
        wait_for(lambda: mk.stats().buffered == 0 and mk.stats().acknowledged >= 3000, "every event acknowledged", 120)
        stored = collector.stored_ids("cus_kill")
        self.assertEqual(len(stored), len(set(stored)))
        self.assertEqual(set(stored), set(tracked))
        self.assertEqual(usage_count(collector, "cus_kill"), "3000")
        s = mk.stats()
        self.assertEqual((s.tracked, s.rejected, s.dropped), (3000, 0, 0))

    def run_child(self, args: List[str], kill_after_lines: int = 0, out: str = "") -> subprocess.CompletedProcess:
        proc = subprocess.Popen([sys.executable, "-m", "tests.crash_child", *args], cwd=PYTHON_DIR,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if kill_after_lines:
            wait_for(lambda: len(flushed_ids(out)) >= kill_after_lines or proc.poll() is not None, "the child to flush", 60)
            os.kill(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=120)
        return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)

    def test_sdk_process_killed_then_a_new_process_replays_its_folder_exactly_once(self) -> None:
        d = temp_dir("mk-py-sdkcrash-")
        collector = Collector(os.path.join(d, "meterkit.db"))
        self.addCleanup(collector.stop)
        self.assertEqual(collector.api("PUT", "/v1/config", CONFIG)[0], 200)
        rng = random.Random(42)
        lock = threading.Lock()

        def chaos(i: int, seen: object) -> object:
            with lock:
                r = rng.random()
            if r < 0.15:
                return DROP_RESPONSE  # applied by the collector, the answer lost
            if r < 0.25:
                return Answer(503, '{"error":{"code":"unavailable","message":"later"}}')
            if r < 0.30:
                return DROP_REQUEST
            return None

        proxy = FaultProxy(collector.url, chaos)
        self.addCleanup(proxy.close)
        buffer_dir, out = os.path.join(d, "buffer"), os.path.join(d, "flushed.txt")
        first = self.run_child([proxy.url, ADMIN_KEY, buffer_dir, "run0", "30", out, "10"])
        self.assertEqual(first.returncode, 0, first.stderr)
        for run in range(1, 5):
            before = len(flushed_ids(out))
            result = self.run_child([proxy.url, ADMIN_KEY, buffer_dir, f"run{run}", "2000", out, "10"], before + rng.randint(20, 300), out)
            self.assertEqual(result.returncode, -signal.SIGKILL, result.stderr)
            self.assertNotIn("Error", result.stderr)
            self.assertNotIn("EVENT", result.stderr)  # nothing rejected, no conflict
            self.assertNotIn("DROP", result.stderr)
        proxy.rule = None
        drained = self.run_child([proxy.url, ADMIN_KEY, buffer_dir, "drain"])
        self.assertEqual(drained.returncode, 0, drained.stderr)
        import json

        report = json.loads(drained.stdout)
        self.assertEqual((report["buffered"], report["dropped"], report["segmentsLeft"], report["rejected"]), (0, 0, 0, 0))
        flushed = flushed_ids(out)
        self.assertGreaterEqual(len(flushed), 30 + 4 * 20)
        stored = collector.stored_ids("cus_crash")
        self.assertEqual(len(stored), len(set(stored)))
        self.assertEqual(set(flushed) - set(stored), set())
        self.assertTrue(all(i.startswith("run") for i in stored))
        self.assertEqual(usage_count(collector, "cus_crash"), str(len(stored)))

    def test_events_tracked_before_a_normal_exit_are_sent_by_atexit(self) -> None:
        d = temp_dir("mk-py-exit-")
        collector = Collector(os.path.join(d, "meterkit.db"))
        self.addCleanup(collector.stop)
        result = self.run_child([collector.url, ADMIN_KEY, "-", "exit", "7"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(collector.stored_ids("cus_exit")), sorted(f"exit-{i}" for i in range(7)))


if __name__ == "__main__":
    unittest.main()
