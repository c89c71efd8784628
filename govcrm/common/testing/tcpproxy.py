"""A TCP proxy on 127.0.0.1 that a test can cut, to make a server (PostgreSQL) briefly unreachable.

`TcpProxy(host, port).start()` forwards its own free port to host:port, one thread pair per
connection. `cut()` drops every open connection (the peer sees "server closed the connection
unexpectedly") and answers new connections by closing them at once, as a database that restarts
or a network that fails does; `restore()` forwards again. Nothing is changed on the server.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self._closed = threading.Event()
        self.connections = 0  # accepted while forwarding
        self.refused = 0  # closed at once while cut

    def start(self) -> TcpProxy:
        threading.Thread(target=self._accept, daemon=True, name="tcpproxy-accept").start()
        return self

    def cut(self) -> None:
        self._cut.set()
        with self._lock:
            sockets, self._open = self._open, set()
        for s in sockets:
            self._close(s)

    def restore(self) -> None:
        self._cut.clear()

    def stop(self) -> None:
        self._closed.set()
        self.cut()
        self._close(self._listener)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @staticmethod
    def _close(s: socket.socket) -> None:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            s.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                self.refused += 1
                self._close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                self._close(client)
                continue
            self.connections += 1
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True, name="tcpproxy-pump").start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with self._lock:
                    self._open.discard(s)
                self._close(s)
