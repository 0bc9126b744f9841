"""The device side of an ADB connection: handshake, streams with flow control, service dispatch.

One TCP connection from the host's adb server carries many streams. The host OPENs a stream
naming a service ("shell,v2,raw:ls", "sync:" ...); we answer OKAY with our local id. Each WRTE
must be acknowledged with OKAY before the sender may write again on that stream, in both
directions. Either side ends a stream with CLSE.
"""

from __future__ import annotations

import itertools
import logging
import queue
import socket
import threading
from pathlib import Path
from typing import Callable

from message import A_AUTH, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_VERSION, A_WRTE, MAX_PAYLOAD, Message, read_message

log = logging.getLogger("adb_peer")
FEATURES = ("shell_v2",)   # exit codes through `adb shell` need the shell protocol v2
_ACK_TIMEOUT_S = 60.0


class StreamClosed(Exception):
    pass


class Stream:
    def __init__(self, conn: "Connection", local_id: int, remote_id: int) -> None:
        self.conn, self.local_id, self.remote_id = conn, local_id, remote_id
        self._inbox: queue.Queue[bytes | None] = queue.Queue()
        self._may_send = threading.Event()
        self._may_send.set()
        self._write_lock = threading.Lock()
        self.closed = False
        self._sent_close = False

    # host -> device
    def _deliver(self, data: bytes) -> None:
        self._inbox.put(data)

    def read(self) -> bytes | None:
        """Next chunk the host wrote, or None once the host closed the stream."""
        return self._inbox.get()

    # device -> host
    def write(self, data: bytes) -> None:
        with self._write_lock:
            for i in range(0, len(data), self.conn.max_payload):
                if self.closed:
                    raise StreamClosed()
                if not self._may_send.wait(_ACK_TIMEOUT_S):
                    raise StreamClosed()
                if self.closed:
                    raise StreamClosed()
                self._may_send.clear()
                self.conn.send(Message(A_WRTE, self.local_id, self.remote_id, data[i:i + self.conn.max_payload]))

    def _acked(self) -> None:
        self._may_send.set()

    def close(self) -> None:
        """Our side is done: wait for the last write's acknowledgement, then CLSE."""
        with self._write_lock:
            self._may_send.wait(_ACK_TIMEOUT_S)
            if not self._sent_close and not self.closed:
                self._sent_close = True
                self.conn.send(Message(A_CLSE, self.local_id, self.remote_id))
        self._remote_closed()

    def close_reply(self) -> None:
        with self.conn._send_lock:
            if self._sent_close:
                return
            self._sent_close = True
        self.conn.send(Message(A_CLSE, self.local_id, self.remote_id))

    def _remote_closed(self) -> None:
        if not self.closed:
            self.closed = True
            self._inbox.put(None)
            self._may_send.set()


Service = Callable[[Stream, str], None]


class Connection:
    """One host connection; runs in its own thread."""

    _ids = itertools.count(1)

    def __init__(self, sock: socket.socket, sandbox: Path, services: dict[str, Service]) -> None:
        self.sock, self.sandbox, self.services = sock, sandbox, services
        self.max_payload = MAX_PAYLOAD
        self._send_lock = threading.Lock()
        self._streams: dict[int, Stream] = {}

    def send(self, msg: Message) -> None:
        with self._send_lock:
            self.sock.sendall(msg.pack())

    def banner(self) -> bytes:
        props = "ro.product.name=edgekit_peer;ro.product.model=edgekit_peer;ro.product.device=edgekit_peer;"
        return f"device::{props}features={','.join(FEATURES)}".encode()

    def serve(self) -> None:
        try:
            while True:
                self._handle(read_message(self.sock))
        except (ConnectionError, OSError) as e:
            log.info("connection ended: %s", e)
        finally:
            for s in list(self._streams.values()):
                s._remote_closed()
            self.sock.close()

    def _handle(self, msg: Message) -> None:
        if msg.command == A_CNXN:
            self.max_payload = min(MAX_PAYLOAD, msg.arg1 or MAX_PAYLOAD)
            self.send(Message(A_CNXN, A_VERSION, self.max_payload, self.banner()))
        elif msg.command == A_AUTH:
            log.warning("host sent AUTH although we never asked; ignoring")
        elif msg.command == A_OPEN:
            self._open(msg.arg0, msg.data.rstrip(b"\0").decode("utf-8", errors="replace"))
        elif msg.command == A_OKAY:
            s = self._streams.get(msg.arg1)
            if s is not None:
                s._acked()
        elif msg.command == A_WRTE:
            s = self._streams.get(msg.arg1)
            if s is None or s.closed:
                self.send(Message(A_CLSE, msg.arg1, msg.arg0))
                return
            s._deliver(msg.data)
            self.send(Message(A_OKAY, s.local_id, s.remote_id))
        elif msg.command == A_CLSE:
            s = self._streams.pop(msg.arg1, None)
            if s is not None:
                s._remote_closed()
                # the host's adb server keeps its client waiting until the device closes too
                s.close_reply()
        else:
            log.warning("ignoring unknown message %s", msg.name)

    def _open(self, remote_id: int, service: str) -> None:
        log.info("OPEN %r", service)
        name = service.split(":", 1)[0].split(",", 1)[0]
        handler = self.services.get(name)
        if handler is None:
            self.send(Message(A_CLSE, 0, remote_id))
            return
        stream = Stream(self, next(self._ids), remote_id)
        self._streams[stream.local_id] = stream
        self.send(Message(A_OKAY, stream.local_id, remote_id))

        def run() -> None:
            try:
                handler(stream, service)
            except StreamClosed:
                pass
            except Exception:  # a peer for tests: log the bug, keep serving other streams
                log.exception("service %r failed", service)
            finally:
                stream.close()  # still registered: the acknowledgement of our last write must find it
                self._streams.pop(stream.local_id, None)

        threading.Thread(target=run, name=f"svc-{stream.local_id}", daemon=True).start()
