"""Helpers of the Python suite: a real ``meterkit start`` process (as test/support/collector-process.ts
starts one), calls to its API, and waiting on conditions with deadlines (never fixed sleeps)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Set, TypeVar

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(ROOT, "collector", "bin", "meterkit.js")
VECTORS = os.path.join(ROOT, "test", "vectors")
ADMIN_KEY = "mk_sec_test_admin_key_000001"
NODE = shutil.which("node") or "node"

T = TypeVar("T")


def collector_built() -> bool:
    return os.path.exists(os.path.join(ROOT, "collector", "dist", "cli", "main.js"))


def wait_for(probe: Callable[[], Optional[T]], what: str, timeout: float = 30.0, every: float = 0.02) -> T:
    """Polls ``probe`` until it answers something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def temp_dir(prefix: str = "mk-py-") -> str:
    return tempfile.mkdtemp(prefix=prefix)


class Collector:
    """``node collector/bin/meterkit.js start`` on a database file, on a free loopback port."""

    def __init__(self, db_path: str, port: int = 0) -> None:
        self.db_path = db_path
        self.proc = subprocess.Popen(
            [NODE, CLI, "start", "--port", str(port), "--db", db_path, "--admin-key", ADMIN_KEY, "--billing-interval", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        self._out: List[str] = []
        self._listening = threading.Event()
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._listening.wait(60) or not self.url:
            self.kill()
            raise AssertionError(f"collector did not start:\n{self.output()}")
        self.port = int(self.url.rsplit(":", 1)[1])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self._out.append(line)
            m = re.search(r"listening on (http://\S+)", line)
            if m and not self.url:
                self.url = m.group(1)
                self._listening.set()
        self._listening.set()

    def output(self) -> str:
        return "".join(self._out)

    def kill(self) -> None:
        """kill -9: no drain, no goodbye."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self._close_output()

    def _close_output(self) -> None:
        self._reader.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self._close_output()

    # --- its API ------------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> "tuple[int, Any]":
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def stored_events(self, customer_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every stored event (``GET /v1/events``, all pages)."""
        out: List[Dict[str, Any]] = []
        cursor: Optional[str] = None
        while True:
            q = "limit=1000" + (f"&customerId={customer_id}" if customer_id else "") + (f"&cursor={cursor}" if cursor else "")
            status, body = self.api("GET", f"/v1/events?{q}")
            assert status == 200, body
            out.extend(body["data"])
            cursor = body.get("nextCursor")
            if not cursor:
                return out

    def stored_ids(self, customer_id: Optional[str] = None) -> List[str]:
        return [e["id"] for e in self.stored_events(customer_id)]


def ids_set(ids: List[str]) -> Set[str]:
    return set(ids)
