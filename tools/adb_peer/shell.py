"""`shell:` / `shell,v2,...:` / `exec:` services: run a command with /bin/sh in the sandbox.

Shell protocol v2 (what `adb shell` uses when the device lists the shell_v2 feature) frames both
directions as packets: id (1 byte) + length (uint32 LE) + data. Ids: 0 stdin, 1 stdout, 2 stderr,
3 exit (1 byte: the exit code), 4 close stdin, 5 window size change. Without v2, the stream is
the raw output (stdout and stderr merged) and the exit code is lost — as on old devices.

The command runs in its own process group; when the stream closes before it has finished (the
host's client was killed, the connection dropped) the whole group is killed, so nothing the host
gave up on keeps running.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path

from peer import Stream

ID_STDIN, ID_STDOUT, ID_STDERR, ID_EXIT, ID_CLOSE_STDIN, ID_WINDOW = range(6)
_PKT = struct.Struct("<BI")


def packet(kind: int, data: bytes) -> bytes:
    return _PKT.pack(kind, len(data)) + data


def parse_service(service: str) -> tuple[str, bool]:
    """('shell,v2,TERM=xterm,raw:ls -l') -> ('ls -l', True)."""
    head, _, command = service.partition(":")
    args = head.split(",")[1:]
    return command, "v2" in args


def _pump(pipe, stream: Stream, kind: int | None, lock: threading.Lock) -> None:
    while True:
        data = pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536)
        if not data:
            return
        with lock:
            stream.write(packet(kind, data) if kind is not None else data)


def _feed_stdin(stream: Stream, proc: subprocess.Popen, v2: bool) -> None:
    """Host -> process stdin; in v2 the data comes framed, and id 4 closes stdin."""
    buf = b""
    try:
        while True:
            data = stream.read()
            if data is None:
                break
            if not v2:
                proc.stdin.write(data)
                proc.stdin.flush()
                continue
            buf += data
            while len(buf) >= _PKT.size:
                kind, n = _PKT.unpack_from(buf)
                if len(buf) < _PKT.size + n:
                    break
                payload, buf = buf[_PKT.size:_PKT.size + n], buf[_PKT.size + n:]
                if kind == ID_STDIN:
                    proc.stdin.write(payload)
                    proc.stdin.flush()
                elif kind == ID_CLOSE_STDIN:
                    proc.stdin.close()
                    return
    except (BrokenPipeError, ValueError):  # the process closed its stdin or already exited
        return
    finally:
        if not proc.stdin.closed:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass


def _device_env() -> dict[str, str]:
    """The peer's environment, with its own Python's directory first on PATH: that Python has
    LiteRT, so a profile's `python = "python3"` finds a runtime, as on a prepared phone."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")])
    return env


def _kill_group_if_running(proc: subprocess.Popen) -> None:
    # not yet reaped, so its pid (the group id) cannot have been reused
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def make_shell_service(sandbox: Path):
    def serve(stream: Stream, service: str) -> None:
        command, v2 = parse_service(service)
        if service.startswith("exec:"):
            v2 = False
        if not command:
            return  # interactive shells are not offered
        proc = subprocess.Popen(["/bin/sh", "-c", command], cwd=sandbox, env=_device_env(), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE if v2 else subprocess.STDOUT,
                                start_new_session=True)
        stream.on_close(lambda: _kill_group_if_running(proc))
        lock = threading.Lock()
        threading.Thread(target=_feed_stdin, args=(stream, proc, v2), daemon=True).start()
        pumps = [threading.Thread(target=_pump, args=(proc.stdout, stream, ID_STDOUT if v2 else None, lock))]
        if v2:
            pumps.append(threading.Thread(target=_pump, args=(proc.stderr, stream, ID_STDERR, lock)))
        for t in pumps:
            t.start()
        for t in pumps:
            t.join()
        code = proc.wait()
        if v2:
            stream.write(packet(ID_EXIT, bytes([code & 0xFF])))

    return serve
