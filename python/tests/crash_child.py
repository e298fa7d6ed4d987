"""A child process for the crash tests: tracks events with ids ``<label>-<n>`` into a collector
with a disk buffer, calling flush() every ``step`` events and appending the ids of each flushed
step to ``out`` (so the parent knows what was flushed when it kills this process with SIGKILL).

    python -m tests.crash_child ENDPOINT KEY BUFFER_DIR LABEL COUNT OUT [STEP]
    python -m tests.crash_child ENDPOINT KEY BUFFER_DIR drain    # replay what the buffer holds, then report
    python -m tests.crash_child ENDPOINT KEY - exit COUNT        # track COUNT events, exit without shutdown()
"""

import json
import os
import sys
import time

from meterkit import Meterkit, MeterkitEventError


def on_error(err: Exception) -> None:
    if isinstance(err, MeterkitEventError):
        print(f"EVENT {err.status} {err.event_id} {err.code}", file=sys.stderr, flush=True)


def main(argv: list) -> int:
    endpoint, key, buffer_dir, label = argv[:4]
    if label == "exit":
        mk = Meterkit(endpoint, key, flush_interval=60.0)  # shutdown() only through atexit
        for i in range(int(argv[4])):
            mk.track("crash.tick", "cus_exit", {"i": i}, id=f"exit-{i}")
        return 0
    mk = Meterkit(endpoint, key, buffer_dir=buffer_dir, flush_at=25, flush_interval=60.0, on_error=on_error,
                  on_drop=lambda events, reason: print(f"DROP {len(events)} {reason}", file=sys.stderr, flush=True))
    if label == "drain":
        deadline = time.monotonic() + 60
        while mk.stats().buffered > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        report = mk.shutdown(30)
        segments = [n for n in os.listdir(buffer_dir) if n.startswith("segment-")]
        print(json.dumps({"buffered": report.buffered, "dropped": report.dropped, "segmentsLeft": len(segments), **report.stats.as_dict()}))
        return 0
    count, out = int(argv[4]), argv[5]
    step = int(argv[6]) if len(argv) > 6 else 10
    with open(out, "a", encoding="utf-8") as f:
        for start in range(0, count, step):
            ids = [mk.track("crash.tick", "cus_crash", {"i": i, "label": label}, id=f"{label}-{i}") for i in range(start, min(count, start + step))]
            mk.flush()
            f.write("".join(i + "\n" for i in ids))
            f.flush()  # in the page cache: survives a SIGKILL of this process
    mk.shutdown(30)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
