"""Runs a few render jobs for a customer against a collector: one renders, one crashes half-way
(its hold is released), one is too large for the credits left (refused before it starts).

    MK_API_KEY=mk_sec_… python3 examples/render-worker-python/main.py

MK_ENDPOINT (default http://127.0.0.1:8790), MK_API_KEY (required), MK_BUFFER_DIR (optional: keep
events on disk while the collector is down), MK_CUSTOMER (default cus_42).
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))  # from a checkout

from meterkit import Meterkit  # noqa: E402

from worker import Job, run_job  # noqa: E402


def main() -> int:
    api_key = os.environ.get("MK_API_KEY")
    if not api_key:
        print("set MK_API_KEY to a secret key (mk_sec_…) of your collector", file=sys.stderr)
        return 1
    customer = os.environ.get("MK_CUSTOMER", "cus_42")
    mk = Meterkit(
        os.environ.get("MK_ENDPOINT", "http://127.0.0.1:8790"),
        api_key,
        buffer_dir=os.environ.get("MK_BUFFER_DIR"),
        on_error=lambda err: print(f"meterkit: {err}", file=sys.stderr),
        on_drop=lambda events, reason: print(f"meterkit: dropped {len(events)} events ({reason})", file=sys.stderr),
    )
    jobs = [
        Job("job-980", customer, frames=240, resolution="1080p"),
        Job("job-981", customer, frames=120, resolution="4k", fail_after_frames=60),
        Job("job-982", customer, frames=2400, resolution="4k"),
    ]
    for job in jobs:
        outcome = run_job(mk, job)
        print(json.dumps({"job": outcome.job_id, "status": outcome.status, "gpuSeconds": str(outcome.gpu_seconds)}))
    report = mk.shutdown(timeout=10)
    print(json.dumps({"stats": report.stats.as_dict(), "leftInBuffer": report.buffered}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
