"""A server that goes away in mid-session, at a chosen point: a TCP relay on
127.0.0.1 in front of a real server that hangs up on the client (and the server)
as soon as the client sends bytes holding `trigger`, e.g. `b"UID STORE"`.

The fault lives here, between two real programs, not in a patched client.
"""

from __future__ import annotations

import selectors
import socket
import threading

HOST = "127.0.0.1"


class DroppingRelay:
    """Relays connections to `HOST:upstream`; `dropped` is set once it hung up."""

    def __init__(self, upstream: int, trigger: bytes) -> None:
        self.upstream, self.trigger = upstream, trigger
        self.listener = socket.create_server((HOST, 0))
        self.listener.settimeout(0.05)  # to notice `stopping`
        self.port = int(self.listener.getsockname()[1])
        self.dropped = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DroppingRelay:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            with client, socket.create_connection((HOST, self.upstream)) as server:
                self._relay(client, server)

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        client.settimeout(None)
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ, server)
            selector.register(server, selectors.EVENT_READ, client)
            while not self.stopping.is_set():
                for key, _ in selector.select(timeout=0.05):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is client and self.trigger in data:
                        self.dropped.set()
                        return  # both sockets close: the session is gone
                    key.data.sendall(data)
