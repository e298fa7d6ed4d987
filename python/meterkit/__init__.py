"""Meterkit for Python: track usage events from any thread, delivered to a Meterkit collector in
batches with retries, exactly once with a disk buffer; reserve and release credits for jobs.

    from meterkit import Meterkit

    mk = Meterkit("http://127.0.0.1:8790", "mk_sec_…", buffer_dir="./.meterkit")
    mk.track("render.completed", "cus_42", {"gpuSeconds": 12.5}, id="job-981:render")
    mk.shutdown()
"""

__version__ = "0.1.0"

from .client import Meterkit  # noqa: E402
from .disk_buffer import DiskBuffer, DiskBufferStats  # noqa: E402
from .errors import (  # noqa: E402
    DROP_REASONS,
    MeterkitBufferError,
    MeterkitBufferLockedError,
    MeterkitDeliveryError,
    MeterkitError,
    MeterkitEventError,
    MeterkitValidationError,
)
from .ids import uuid_v7  # noqa: E402
from .reservations import Release, Reservation  # noqa: E402
from .stats import ShutdownReport, Stats  # noqa: E402

__all__ = [
    "DROP_REASONS",
    "DiskBuffer",
    "DiskBufferStats",
    "Meterkit",
    "MeterkitBufferError",
    "MeterkitBufferLockedError",
    "MeterkitDeliveryError",
    "MeterkitError",
    "MeterkitEventError",
    "MeterkitValidationError",
    "Release",
    "Reservation",
    "ShutdownReport",
    "Stats",
    "uuid_v7",
    "__version__",
]
