"""The Python half of test/bench/python-sdk.bench.mjs: prints one JSON line of figures.

    python3 python_sdk_bench.py track URL KEY     track() per call (ns) against json.dumps of the same properties
    python3 python_sdk_bench.py push URL KEY N    events/s one process pushes through the SDK into the collector
"""

import gc
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "python"))

from meterkit import Meterkit  # noqa: E402


def render_event(i: int) -> dict:
    return {"gpuSeconds": 12.5, "resolution": "4k", "status": "succeeded", "frames": 240, "model": "sdxl-turbo"}


def quantile(sorted_values: list, q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def track_cost(url: str, key: str) -> dict:
    """Per-call timings with the timer's own cost subtracted; between rounds of 1000 calls the
    client is given time to send them (not timed), so the queue stays as short as in production."""
    mk = Meterkit(url, key, flush_at=1000, max_queue_events=100_000, shutdown_at_exit=False)
    props = [render_event(i) for i in range(1000)]
    customers = [f"cus_{i % 100}" for i in range(1000)]
    clock = time.perf_counter_ns
    empty = []
    for _ in range(10_000):
        a = clock()
        b = clock()
        empty.append(b - a)
    overhead = statistics.median(empty)
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for i in range(20_000):  # warm-up
        mk.track("render.completed", customers[i % 1000], props[i % 1000])
    mk.flush(60)
    track, baseline = [], []
    for _ in range(100):
        for i in range(1000):
            a = clock()
            mk.track("render.completed", customers[i], props[i])
            b = clock()
            track.append(max(0, b - a - overhead))
        for i in range(1000):
            a = clock()
            encoder(props[i])
            b = clock()
            baseline.append(max(0, b - a - overhead))
        mk.flush(60)
    report = mk.shutdown(60)
    if report.dropped or report.stats.acknowledged != report.stats.tracked:
        raise SystemExit(f"bench lost events: {report}")
    track.sort()
    baseline.sort()
    return {"track": {"median": quantile(track, 0.5), "p99": quantile(track, 0.99)},
            "baseline": {"median": quantile(baseline, 0.5), "p99": quantile(baseline, 0.99)},
            "overhead": overhead}


def push(url: str, key: str, total: int) -> dict:
    """Tracks ``total`` events as fast as the SDK takes them (at most 40,000 unacknowledged), flushes."""
    mk = Meterkit(url, key, flush_at=1000, max_queue_events=50_000, max_concurrent_requests=2, shutdown_at_exit=False)
    started = time.perf_counter()
    for i in range(total):
        mk.track("render.completed", f"cus_{i % 100}", render_event(i), id=f"py-bench-{i}")
        if i % 1000 == 999:
            while True:
                s = mk.stats()
                if s.tracked - s.acknowledged <= 40_000:
                    break
                time.sleep(0.001)
    mk.flush(300)
    seconds = time.perf_counter() - started
    report = mk.shutdown(60)
    if report.stats.acknowledged != total:
        raise SystemExit(f"push lost events: {report}")
    return {"eventsPerSecond": total / seconds}


if __name__ == "__main__":
    gc.collect()
    mode, url, key = sys.argv[1:4]
    out = track_cost(url, key) if mode == "track" else push(url, key, int(sys.argv[4]))
    print(json.dumps(out))
