"""A render worker metered with the Meterkit Python SDK: before a job starts it reserves the credits
the job is estimated to cost; it renders (simulated here); it tracks the GPU seconds it really used
with the reservation's id, which settles the hold (the real cost is deducted, the rest freed); and
when the render fails it releases the hold, so a failed job costs nothing.

The event id comes from the job (``job-981:render``), so a job retried by another worker or after
a crash is counted once: the collector answers ``duplicate``.
"""

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from meterkit import Meterkit

#: What one GPU second costs in credits (the plan's price in meterkit.config.json).
CREDITS_PER_GPU_SECOND = Decimal("2")
SECONDS_PER_FRAME = {"1080p": Decimal("0.05"), "4k": Decimal("0.2")}


@dataclass(frozen=True)
class Job:
    id: str
    customer_id: str
    frames: int
    resolution: str
    #: Simulates a crash of the renderer after this many frames.
    fail_after_frames: Optional[int] = None


@dataclass(frozen=True)
class Outcome:
    job_id: str
    status: str  # "rendered", "failed" (hold released) or "refused" (not enough credits)
    gpu_seconds: Decimal = Decimal(0)
    reservation_id: Optional[str] = None


class RenderFailed(Exception):
    pass


def estimate_credits(job: Job) -> Decimal:
    """The most the job can cost: every frame at its resolution's rate, plus 10% headroom."""
    return (job.frames * SECONDS_PER_FRAME[job.resolution] * CREDITS_PER_GPU_SECOND * Decimal("1.1")).quantize(Decimal("0.01"))


def render(job: Job) -> Decimal:
    """The simulated render: real work per frame, and the GPU seconds it would have taken."""
    digest = job.id.encode()
    for frame in range(job.frames):
        if job.fail_after_frames is not None and frame >= job.fail_after_frames:
            raise RenderFailed(f"job {job.id}: renderer crashed at frame {frame}")
        for _ in range(50):
            digest = hashlib.sha256(digest).digest()
    return job.frames * SECONDS_PER_FRAME[job.resolution]


def run_job(mk: Meterkit, job: Job) -> Outcome:
    hold = mk.reserve(job.customer_id, estimate_credits(job), ttl_ms=3_600_000, id=f"{job.id}:hold")
    if not hold.granted:
        return Outcome(job.id, "refused")
    try:
        gpu_seconds = render(job)
    except RenderFailed:
        mk.release(hold.id)
        return Outcome(job.id, "failed", reservation_id=hold.id)
    mk.track(
        "render.completed",
        job.customer_id,
        {"gpuSeconds": str(gpu_seconds), "frames": job.frames, "resolution": job.resolution, "status": "succeeded"},
        id=f"{job.id}:render",
        reservation_id=hold.id,
    )
    return Outcome(job.id, "rendered", gpu_seconds, hold.id)
