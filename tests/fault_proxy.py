"""A loopback TCP proxy that loses requests and responses on purpose, for sync fault tests.

One HTTP exchange per connection. A dropped request never reaches the server; a dropped response
is read whole from the server (which has committed) and then never delivered. Either way the
client sees its connection closed without an answer, as on a flaky mobile network.
"""

from __future__ import annotations

import random
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

HOST = "127.0.0.1"
MAX_HEADER = 64 * 1024
MAX_BODY = 32 * 1024 * 1024
IO_TIMEOUT = 15.0
HOP_BY_HOP = (b"connection", b"keep-alive", b"proxy-connection")


class Cut(Exception):
    """A peer closed the connection, or sent something this proxy will not carry."""


class FaultProxy:
    """Forward HTTP/1.x exchanges from 127.0.0.1:<port> to 127.0.0.1:target_port, losing some."""

    def __init__(self, target_port: int, drop_request: float = 0.0, drop_response: float = 0.0,
                 seed: int = 0, max_connections: int = 32) -> None:
        self.target_port = target_port
        self.drop_request, self.drop_response = drop_request, drop_response
        self.random = random.Random(seed)
        self.requests_dropped = self.responses_dropped = self.forwarded = self.failed = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._workers = ThreadPoolExecutor(max_connections, thread_name_prefix="fault-proxy")
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)  # lets the accept loop notice stop()
        self.port = self._listener.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}"
        self._acceptor = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._acceptor.start()

    def stop(self) -> None:
        """Stop accepting, let the exchanges under way end, and close."""
        self._stopping.set()
        self._acceptor.join(timeout=5)
        self._listener.close()
        self._workers.shutdown(wait=True, cancel_futures=True)

    def _accept(self) -> None:
        """Hand each connection to a worker, never more at once than the pool holds."""
        while not self._stopping.is_set():
            if not self._slots.acquire(timeout=0.1):
                continue
            try:
                downstream, _ = self._listener.accept()
            except (TimeoutError, OSError):
                self._slots.release()
                continue
            self._workers.submit(self._serve, downstream)

    def _serve(self, downstream: socket.socket) -> None:
        """Carry one exchange, or lose it."""
        try:
            with downstream:
                downstream.settimeout(IO_TIMEOUT)
                self._exchange(downstream)
        except (Cut, OSError):
            self._count("failed")
        finally:
            self._slots.release()

    def _exchange(self, downstream: socket.socket) -> None:
        """Read a request, forward it, send the response back: each step may be lost."""
        request = read_message(downstream, is_response=False)
        if self._roll(self.drop_request):
            self._count("requests_dropped")
            return
        with socket.create_connection((HOST, self.target_port), timeout=IO_TIMEOUT) as upstream:
            upstream.sendall(request)
            response = read_message(upstream, is_response=True)
        if self._roll(self.drop_response):
            self._count("responses_dropped")
            return
        downstream.sendall(response)
        self._count("forwarded")

    def _roll(self, probability: float) -> bool:
        """Tell whether to lose this one."""
        with self._lock:
            return self.random.random() < probability

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


def read_message(sock: socket.socket, is_response: bool) -> bytes:
    """Read one whole HTTP message; return it with `Connection: close` (one exchange only)."""
    head, rest = _read_head(sock)
    lines = head.split(b"\r\n")
    headers = [line for line in lines[1:] if line.split(b":", 1)[0].strip().lower()
               not in HOP_BY_HOP]
    length = _content_length(headers)
    if length is None and not is_response:
        length = 0  # a request without a length has no body (this proxy carries no chunked upload)
    body = _read_body(sock, rest, length)
    return b"\r\n".join([lines[0], *headers, b"Connection: close", b"", body])


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read up to the blank line after the headers; return (head, what came after it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEADER:
            raise Cut("headers too large")
        chunk = sock.recv(65536)
        if not chunk:
            raise Cut("closed before the end of the headers")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _content_length(headers: list[bytes]) -> int | None:
    """Return the Content-Length header's value, if there is one."""
    for line in headers:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None


def _read_body(sock: socket.socket, body: bytes, length: int | None) -> bytes:
    """Read a body of the given length, or until the peer closes when no length is given."""
    while length is None or len(body) < length:
        if len(body) > MAX_BODY:
            raise Cut("body too large")
        chunk = sock.recv(65536)
        if not chunk:
            if length is None:
                return body
            raise Cut("closed before the end of the body")
        body += chunk
    return body[:length]
