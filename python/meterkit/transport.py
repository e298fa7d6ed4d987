"""The collector over ``http.client``: keep-alive connections shared by the client's threads, one
deadline per request covering the whole exchange (body read included), the body always read,
gzip for large batches, and one immediate resend when a reused keep-alive connection turns out
to be dead. Failures are values (``Answer`` with ``status`` None), never exceptions."""

import gzip
import heapq
import http.client
import itertools
import socket
import threading
import time
from typing import List, NamedTuple, Optional, Set, Tuple
from urllib.parse import urlsplit

from . import __version__


class Answer(NamedTuple):
    """An HTTP answer (``status`` set), or a failure: ``error`` is ``network`` or ``timeout``."""

    status: Optional[int]
    body: str = ""
    retry_after: Optional[str] = None
    error: str = ""
    message: str = ""


_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, http.client.RemoteDisconnected, http.client.BadStatusLine)


class _Watchdog:
    """Cuts the socket of a request whose deadline passed: a blocked read then fails at once."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: List[Tuple[float, int, "_Exchange"]] = []
        self._ids = itertools.count()
        self._stopped = False
        # Started now: Python 3.12+ refuses new threads at interpreter exit, where shutdown() may
        # send the first request.
        threading.Thread(target=self._run, name="meterkit-deadlines", daemon=True).start()

    def watch(self, exchange: "_Exchange", deadline: float) -> None:
        with self._cv:
            heapq.heappush(self._heap, (deadline, next(self._ids), exchange))
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()

    def _run(self) -> None:
        with self._cv:
            while not self._stopped:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    _, _, exchange = heapq.heappop(self._heap)
                    if not exchange.done:
                        exchange.expire()
                self._cv.wait(None if not self._heap else max(0.0, self._heap[0][0] - now))


class _Exchange:
    __slots__ = ("conn", "done", "expired")

    def __init__(self, conn: http.client.HTTPConnection) -> None:
        self.conn = conn
        self.done = False
        self.expired = False

    def expire(self) -> None:
        self.expired = True
        _cut(self.conn)


def _cut(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class HttpTransport:
    def __init__(self, endpoint: str, api_key: str, timeout: float, gzip_min_bytes: int, user_agent: Optional[str] = None) -> None:
        url = urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"endpoint must be an http:// or https:// URL (got {endpoint!r})")
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port
        self._base = url.path.rstrip("/")
        self.timeout = timeout
        self._gzip_min_bytes = gzip_min_bytes
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "User-Agent": user_agent or f"meterkit-python/{__version__}",
            "Accept": "application/json",
        }
        self._lock = threading.Lock()
        self._idle: List[http.client.HTTPConnection] = []
        self._busy: Set[http.client.HTTPConnection] = set()
        self._watchdog = _Watchdog()
        self._closed = False

    def send(self, body: bytes) -> Answer:
        """``POST /v1/events`` with a ``{"events":[…]}`` body."""
        headers = {"Content-Type": "application/json"}
        if len(body) >= self._gzip_min_bytes:
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        return self.request("POST", "/v1/events", body, headers)

    def call(self, method: str, path: str, body: Optional[bytes] = None) -> Answer:
        """A JSON call to another route (reservations), through the same connections and deadline."""
        return self.request(method, path, body, {"Content-Type": "application/json"} if body is not None else {})

    def request(self, method: str, path: str, body: Optional[bytes], headers: dict) -> Answer:
        conn, reused = self._take()
        if conn is None:
            return Answer(None, error="network", message="transport closed")
        answer, stale = self._once(conn, method, path, body, headers)
        if stale and reused and not self._closed:
            conn, _ = self._take(fresh=True)
            if conn is None:
                return answer
            answer, _ = self._once(conn, method, path, body, headers)
        return answer

    def _take(self, fresh: bool = False) -> Tuple[Optional[http.client.HTTPConnection], bool]:
        with self._lock:
            if self._closed:
                return None, False
            if self._idle and not fresh:
                conn = self._idle.pop()
                self._busy.add(conn)
                return conn, True
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self.timeout)
            self._busy.add(conn)
            return conn, False

    def _give_back(self, conn: http.client.HTTPConnection, keep: bool) -> None:
        with self._lock:
            self._busy.discard(conn)
            if keep and not self._closed:
                self._idle.append(conn)
                return
        conn.close()

    def _once(self, conn: http.client.HTTPConnection, method: str, path: str, body: Optional[bytes], headers: dict) -> Tuple[Answer, bool]:
        exchange = _Exchange(conn)
        self._watchdog.watch(exchange, time.monotonic() + self.timeout)
        got_status = False
        try:
            conn.request(method, self._base + path, body=body, headers={**self._headers, **headers})
            res = conn.getresponse()
            got_status = True
            data = res.read()  # always read: an unread body pins the connection
            answer = Answer(res.status, data.decode("utf-8", "replace"), res.getheader("Retry-After"))
            exchange.done = True
            self._give_back(conn, not res.will_close and not exchange.expired)
            return answer, False
        except Exception as err:  # noqa: BLE001 - every failure becomes a value
            exchange.done = True
            self._give_back(conn, False)
            if exchange.expired or isinstance(err, socket.timeout):
                return Answer(None, error="timeout", message=f"no answer within {self.timeout * 1000:.0f} ms"), False
            if self._closed:
                return Answer(None, error="network", message="transport closed"), False
            return Answer(None, error="network", message=f"{type(err).__name__}: {err}"), not got_status and isinstance(err, _STALE)

    def close(self) -> None:
        """Stops using the network: requests under way fail at once."""
        with self._lock:
            self._closed = True
            idle, busy = self._idle, list(self._busy)
            self._idle = []
        for conn in busy:
            _cut(conn)
        for conn in idle:
            conn.close()
        self._watchdog.stop()
