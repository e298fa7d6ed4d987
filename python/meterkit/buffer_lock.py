"""One process per buffer folder: a lock file holding the owner's PID, the same file as the Node
SDK's (``meterkit.lock``). A lock whose process is gone (crash, kill -9) is taken over; a live
owner is a configuration error, reported clearly."""

import os
import sys
from typing import Callable

from .errors import MeterkitBufferError, MeterkitBufferLockedError

LOCK_FILE = "meterkit.lock"


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        return False


def acquire_lock(directory: str) -> Callable[[], None]:
    """Takes the folder's lock or raises MeterkitBufferLockedError; answers the release function."""
    path = os.path.join(directory, LOCK_FILE)
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pass
        else:
            try:
                os.write(fd, f"{os.getpid()}\n".encode())
            finally:
                os.close(fd)
            released = [False]

            def release() -> None:
                if released[0]:
                    return
                released[0] = True
                try:
                    os.unlink(path)
                except OSError:
                    pass

            return release
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read().strip()
        except OSError:
            continue  # removed meanwhile: try again
        owner = int(text) if text.isdigit() else -1
        if owner > 0 and _alive(owner):
            raise MeterkitBufferLockedError(directory, owner, owner == os.getpid())
        try:
            os.unlink(path)  # stale: its process is gone (or the file is unreadable garbage)
        except OSError:
            pass
    raise MeterkitBufferError("buffer_locked", f"could not take the lock in buffer_dir {directory}")
