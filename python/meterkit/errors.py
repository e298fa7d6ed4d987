"""Errors of the client. Only :class:`MeterkitValidationError` is ever raised into the caller of
``track()`` (for programmer errors); the others reach the application through ``on_error``, or
are raised by the request/response calls (``reserve()``, ``release()``).
"""

from typing import Optional


class MeterkitError(Exception):
    """Base class: every error has a machine-readable ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class MeterkitValidationError(MeterkitError, ValueError):
    """A programmer error in the arguments of ``track()`` or ``reserve()``: names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__("invalid_event", f"{field}: {message}")
        self.field = field


class MeterkitEventError(MeterkitError):
    """The collector answered ``rejected`` or ``conflict`` for one event; it is never retried."""

    def __init__(self, event_id: str, status: str, code: str, message: str) -> None:
        super().__init__(code, f"event {event_id} {status}: {message}")
        self.event_id = event_id
        self.status = status


class MeterkitDeliveryError(MeterkitError):
    """A whole request failed (network, timeout, HTTP error)."""

    def __init__(self, code: str, message: str, event_count: int, http_status: Optional[int] = None) -> None:
        super().__init__(code, message)
        self.event_count = event_count
        self.http_status = http_status


class MeterkitBufferError(MeterkitError):
    """The disk buffer failed or found damaged records."""


class MeterkitBufferLockedError(MeterkitBufferError):
    """Another live process (or another client in this one) uses the same ``buffer_dir``."""

    def __init__(self, directory: str, pid: int, this_process: bool) -> None:
        note = " (this process: another Meterkit instance)" if this_process else ""
        super().__init__(
            "buffer_locked",
            f"buffer_dir {directory} is in use by process {pid}{note}; every process needs its own buffer_dir",
        )
        self.pid = pid


#: Why events were given up (the second argument of ``on_drop``), as in the TypeScript core.
DROP_REASONS = (
    "queue_full",  # memory cap reached and no buffer
    "buffer_full",  # disk buffer size cap reached
    "retries_exhausted",  # max_retries attempts failed and no buffer
    "request_rejected",  # the collector refused the whole request with a non-retryable 4xx
    "event_too_large",  # a single event was answered 413
    "shutdown",  # still in memory when shutdown() gave up, and no buffer
    "closed",  # tracked after shutdown()
)
