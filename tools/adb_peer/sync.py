"""`sync:` service (AOSP SYNC.TXT): file transfer requests on one stream.

A request is id (4 ASCII bytes) + length (uint32 LE) + that many bytes of path:
  STAT path -> "STAT" mode size mtime (uint32 each; all 0 when the path does not exist)
  LIST dir  -> "DENT" mode size mtime namelen name, one per entry, then "DONE" + 16 zero bytes
  SEND "path,mode" then "DATA" len bytes ... then "DONE" mtime -> "OKAY" 0 | "FAIL" len msg
  RECV path -> "DATA" len bytes ... then "DONE" 0 | "FAIL" len msg
  QUIT      -> end of the stream
Every path must lie inside the sandbox directory (after resolving links); others are refused.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from peer import Stream

_REQ = struct.Struct("<4sI")
_STAT = struct.Struct("<4sIII")
_DENT = struct.Struct("<4sIIII")
MAX_DATA = 64 * 1024


class _Reader:
    """Exact-size reads over the stream's chunks."""

    def __init__(self, stream: Stream) -> None:
        self.stream, self.buf = stream, b""

    def take(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            chunk = self.stream.read()
            if chunk is None:
                return None
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def _fail(stream: Stream, message: str) -> None:
    data = message.encode()
    stream.write(_REQ.pack(b"FAIL", len(data)) + data)


class SyncSession:
    def __init__(self, stream: Stream, sandbox: Path) -> None:
        self.stream, self.sandbox = stream, sandbox.resolve()
        self.reader = _Reader(stream)

    def confine(self, raw: str) -> Path | None:
        p = Path(raw)
        p = (p if p.is_absolute() else self.sandbox / p).resolve()
        return p if p == self.sandbox or self.sandbox in p.parents else None

    def run(self) -> None:
        while True:
            head = self.reader.take(_REQ.size)
            if head is None:
                return
            rid, n = _REQ.unpack(head)
            if rid == b"QUIT":
                return
            arg = self.reader.take(n)
            if arg is None:
                return
            handler = {b"STAT": self.stat, b"LIST": self.list, b"SEND": self.send, b"RECV": self.recv}.get(rid)
            if handler is None:
                _fail(self.stream, f"unknown sync request {rid!r}")
                return
            if handler(arg.decode("utf-8", errors="surrogateescape")) is False:
                return

    def stat(self, raw: str) -> None:
        p = self.confine(raw)
        try:
            st = os.stat(p) if p is not None else None
        except OSError:
            st = None
        if st is None:
            self.stream.write(_STAT.pack(b"STAT", 0, 0, 0))
        else:
            self.stream.write(_STAT.pack(b"STAT", st.st_mode & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF, int(st.st_mtime)))

    def list(self, raw: str) -> None:
        p = self.confine(raw)
        out = bytearray()
        if p is not None and p.is_dir():
            for entry in sorted(os.scandir(p), key=lambda e: e.name):
                st = entry.stat(follow_symlinks=False)
                name = entry.name.encode("utf-8", errors="surrogateescape")
                out += _DENT.pack(b"DENT", st.st_mode & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF, int(st.st_mtime), len(name))
                out += name
        out += _DENT.pack(b"DONE", 0, 0, 0, 0)
        self.stream.write(bytes(out))

    def send(self, raw: str) -> bool:
        path, _, mode_text = raw.rpartition(",")
        if not path:
            path, mode_text = raw, "33188"
        target = self.confine(path)
        data = bytearray()
        while True:  # read the whole transfer even when we will refuse it, to stay in step
            head = self.reader.take(_REQ.size)
            if head is None:
                return False
            rid, n = _REQ.unpack(head)
            if rid == b"DATA":
                chunk = self.reader.take(n)
                if chunk is None:
                    return False
                data += chunk
            elif rid == b"DONE":
                mtime = n
                break
            else:
                _fail(self.stream, f"unexpected {rid!r} during SEND")
                return False
        if target is None:
            _fail(self.stream, f"{path}: outside the device sandbox")
            return True
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bytes(data))
            os.chmod(target, int(mode_text) & 0o777)
            os.utime(target, (mtime, mtime))
        except (OSError, ValueError) as e:
            _fail(self.stream, f"{path}: {e}")
            return True
        self.stream.write(_REQ.pack(b"OKAY", 0))
        return True

    def recv(self, raw: str) -> None:
        p = self.confine(raw)
        if p is None:
            _fail(self.stream, f"{raw}: outside the device sandbox")
            return
        try:
            with open(p, "rb") as f:
                while chunk := f.read(MAX_DATA):
                    self.stream.write(_REQ.pack(b"DATA", len(chunk)) + chunk)
        except OSError as e:
            _fail(self.stream, f"{raw}: {e.strerror}")
            return
        self.stream.write(_REQ.pack(b"DONE", 0))


def make_sync_service(sandbox: Path):
    def serve(stream: Stream, service: str) -> None:
        SyncSession(stream, sandbox).run()

    return serve
