"""The device side of an ADB connection: handshake, streams with flow control, service dispatch.

One TCP connection from the host's adb server carries many streams. The host OPENs a stream
naming a service ("shell,v2,raw:ls", "sync:" ...); we answer OKAY with our local id. Each WRTE
must be acknowledged with OKAY before the sender may write again on that stream, in both
directions. Either side ends a stream with CLSE.

The handshake authenticates the host (auth.py): until it has signed a token with an allowed key,
the connection serves nothing, and any other message ends it.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import socket
import threading
from pathlib import Path
from typing import Callable

from auth import AUTH_RSAPUBLICKEY, AUTH_SIGNATURE, AUTH_TOKEN, AdbPublicKey, Authenticator
from message import A_AUTH, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_VERSION, A_WRTE, MAX_PAYLOAD, Message, read_message

log = logging.getLogger("adb_peer")
FEATURES = ("shell_v2",)   # exit codes through `adb shell` need the shell protocol v2
_ACK_TIMEOUT_S = 60.0


class StreamClosed(Exception):
    pass


class Refused(ConnectionError):
    """The host failed authentication: the connection is dropped."""


class Stream:
    def __init__(self, conn: "Connection", local_id: int, remote_id: int) -> None:
        self.conn, self.local_id, self.remote_id = conn, local_id, remote_id
        self._inbox: queue.Queue[bytes | None] = queue.Queue()
        self._may_send = threading.Event()
        self._may_send.set()
        self._write_lock = threading.Lock()
        self.closed = False
        self._sent_close = False
        self._on_close: list[Callable[[], None]] = []
        self._close_lock = threading.Lock()

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

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the stream is closed (by the host, by a lost connection or by us);
        at once when it already is."""
        with self._close_lock:
            if not self.closed:
                self._on_close.append(callback)
                return
        callback()

    def _remote_closed(self) -> None:
        with self._close_lock:
            if self.closed:
                return
            self.closed = True
            callbacks, self._on_close = self._on_close, []
        self._inbox.put(None)
        self._may_send.set()
        for callback in callbacks:
            callback()


Service = Callable[[Stream, str], None]


class Connection:
    """One host connection; runs in its own thread."""

    _ids = itertools.count(1)

    def __init__(self, sock: socket.socket, sandbox: Path, services: dict[str, Service],
                 allowed_keys: tuple[AdbPublicKey, ...]) -> None:
        self.sock, self.sandbox, self.services = sock, sandbox, services
        self.auth = Authenticator(allowed_keys, os.urandom)
        self.authorized = False
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
        except Refused as e:
            log.warning("connection refused: %s", e)
        except (ConnectionError, OSError) as e:
            log.info("connection ended: %s", e)
        finally:
            for s in list(self._streams.values()):
                s._remote_closed()
            self.sock.close()

    def _handle(self, msg: Message) -> None:
        if msg.command == A_CNXN:
            self.max_payload = min(MAX_PAYLOAD, msg.arg1 or MAX_PAYLOAD)
            if self.authorized:
                self.send(Message(A_CNXN, A_VERSION, self.max_payload, self.banner()))
            else:
                self.send(Message(A_AUTH, AUTH_TOKEN, 0, self.auth.new_token()))
        elif msg.command == A_AUTH:
            self._authenticate(msg)
        elif not self.authorized:
            raise Refused(f"host sent {msg.name} before authenticating")
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

    def _authenticate(self, msg: Message) -> None:
        if self.authorized:
            return
        if msg.arg0 == AUTH_SIGNATURE:
            if self.auth.signature_ok(msg.data):
                self._accept("a signed token")
            elif self.auth.attempts >= self.auth.MAX_SIGNATURES:
                raise Refused(f"{self.auth.attempts} signatures by keys that are not allowed")
            else:  # the host tries its next key on a fresh token
                self.send(Message(A_AUTH, AUTH_TOKEN, 0, self.auth.new_token()))
        elif msg.arg0 == AUTH_RSAPUBLICKEY:
            if self.auth.public_key_allowed(msg.data):
                self._accept("an allowed public key")
            else:  # stay connected and unauthorized, like a phone whose user said no (a closed
                # connection would only make the host's adb server reconnect a few times a second)
                log.warning("host offered a public key that is not in the allowed list: refused")
        else:
            raise Refused(f"unexpected AUTH type {msg.arg0} from the host")

    def _accept(self, how: str) -> None:
        log.info("host authenticated by %s", how)
        self.authorized = True
        self.send(Message(A_CNXN, A_VERSION, self.max_payload, self.banner()))

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
