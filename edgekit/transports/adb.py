"""ADB transport through the `adb` client (Debian's adb package): push, pull, shell with exit codes.

Exit codes come from the shell protocol v2 (the device must list the shell_v2 feature; without it
`adb shell` always exits 0, so such a device is refused rather than trusted). The command line is
sent to the device's shell as one string, built with shlex quoting. The adb server the client
talks to is chosen the usual way (ANDROID_ADB_SERVER_PORT / ADB_SERVER_SOCKET in the environment).
A serial of the form host:port is an adb-over-TCP device: open() connects it, close() disconnects.

A command runs under the device's `timeout -s KILL` (toybox has it since Android 6), a little longer
than the host waits: killing the local adb client on a timeout only closes the stream, and adbd
need not kill what runs behind it.
"""

from __future__ import annotations

import math
import os
import re
import selectors
import shlex
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from edgekit.core.errors import DeviceError, InputFileError, ToolMissingError
from edgekit.core.transport import Capability, RunResult, Transport

_ADMIN_TIMEOUT_S = 30.0


def device_deadline_argv(args: list[str], timeout_s: float) -> list[str]:
    """argv wrapped in the device's `timeout`: whole seconds, at least one after the host gives up."""
    return ["timeout", "-s", "KILL", str(math.ceil(timeout_s) + 1), *args]


def _is_tcp_serial(serial: str) -> bool:
    host, sep, port = serial.rpartition(":")
    return bool(sep and host and port.isdigit())


class AdbTransport(Transport):
    capabilities = frozenset({Capability.FILES, Capability.EXEC})

    def __init__(self, serial: str = "", adb: str = "adb") -> None:
        self.serial = serial
        self.adb = adb
        self._connected_tcp = False
        self._open = False

    @property
    def where(self) -> str:
        return self.serial or "the only attached device"

    def _base(self) -> list[str]:
        return [self.adb, *(["-s", self.serial] if self.serial else [])]

    def _admin(self, args: list[str], timeout_s: float = _ADMIN_TIMEOUT_S, device: bool = True) -> subprocess.CompletedProcess:
        argv = [*(self._base() if device else [self.adb]), *args]
        try:
            return subprocess.run(argv, capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise DeviceError(f"`{' '.join(argv)}` did not finish within {timeout_s:g} s",
                              "check the device and the adb server (adb kill-server)") from None

    # -- connection ----------------------------------------------------------------------------
    def open(self) -> None:
        if shutil.which(self.adb) is None:
            raise ToolMissingError(f"the adb client ({self.adb}) is not installed", "apt-get install adb")
        if _is_tcp_serial(self.serial):
            r = self._admin(["connect", self.serial], device=False)
            out = (r.stdout + r.stderr).decode(errors="replace").strip()
            if "connected to" not in out or "failed" in out or "unable" in out:
                self._admin(["disconnect", self.serial], device=False)  # leave no "unauthorized" entry behind
                if "authenticate" in out:
                    raise DeviceError(f"adb device {self.serial} refused this computer's adb key",
                                      "accept the key on the device (or add ~/.android/adbkey.pub to its adb_keys)")
                raise DeviceError(f"adb connect {self.serial} failed: {out.splitlines()[-1] if out else r.returncode}",
                                  "check that the device listens for adb over TCP at that address")
            self._connected_tcp = True
        r = self._admin(["get-state"])
        state = r.stdout.decode(errors="replace").strip()
        if r.returncode != 0 or state != "device":
            msg = (r.stderr.decode(errors="replace").strip().splitlines() or [state or "no state"])[-1]
            self.close()
            raise DeviceError(f"adb device {self.where} is not ready: {msg}",
                              "check `adb devices`; set [transport] serial in the profile when several are attached")
        r = self._admin(["features"])
        features = set(r.stdout.decode(errors="replace").split())
        if "shell_v2" not in features:
            self.close()
            raise DeviceError(f"adb device {self.where} lacks the shell_v2 feature, so exit codes cannot be read",
                              "use a device with Android 7 or later")
        self._open = True

    def close(self) -> None:
        self._open = False
        if self._connected_tcp:
            self._connected_tcp = False
            self._admin(["disconnect", self.serial], device=False)

    def _check_open(self) -> None:
        if not self._open:
            raise DeviceError(f"ADB transport to {self.where} is not open", "call open() first")

    # -- files ---------------------------------------------------------------------------------
    def push(self, local: str, remote: PurePosixPath) -> None:
        """Copy a file up; it appears under its name only when complete (temp name + mv)."""
        self._check_open()
        if not Path(local).is_file():
            raise InputFileError(f"cannot push {local}: no such file")
        remote = PurePosixPath(remote)
        tmp = remote.with_name(f".{remote.name}.{uuid.uuid4().hex[:8]}.part")
        r = self._admin(["push", local, str(tmp)], timeout_s=600)
        if r.returncode != 0:
            raise DeviceError(f"adb push {local} -> {remote} failed: {self._tail(r)}", "check [transport] workdir")
        self.run(["mv", "-f", str(tmp), str(remote)], timeout_s=_ADMIN_TIMEOUT_S).check(f"mv into {remote}")

    def pull(self, remote: PurePosixPath, local: str) -> None:
        self._check_open()
        tmp = f"{local}.{uuid.uuid4().hex[:8]}.part"
        try:
            r = self._admin(["pull", str(remote), tmp], timeout_s=600)
            if r.returncode != 0:
                raise DeviceError(f"adb pull {remote} failed: {self._tail(r)}", "check the remote path")
            os.replace(tmp, local)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @staticmethod
    def _tail(r: subprocess.CompletedProcess) -> str:
        lines = (r.stderr + r.stdout).decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {r.returncode}"

    # -- exec ----------------------------------------------------------------------------------
    def run(self, argv: Iterable[str], timeout_s: float, stdin: bytes = b"",
            on_stdout: Callable[[bytes], None] | None = None) -> RunResult:
        self._check_open()
        args = [str(a) for a in argv]
        command = shlex.join(device_deadline_argv(args, timeout_s))
        proc = subprocess.Popen([*self._base(), "shell", command], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def feed() -> None:
            try:
                if stdin:
                    proc.stdin.write(stdin)
                proc.stdin.close()
            except BrokenPipeError:  # adb exited early; its exit code tells why
                pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + timeout_s
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        try:
            while sel.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    proc.kill()  # closes the stream; the device's `timeout` ends the command
                    raise DeviceError(f"{args[0]} did not finish within {timeout_s:g} s on {self.where}",
                                      "raise the timeout or lower --repeats")
                for key, _ in sel.select(timeout=min(remaining, 0.5)):
                    data = os.read(key.fileobj.fileno(), 65536)
                    if not data:
                        sel.unregister(key.fileobj)
                        continue
                    key.data.extend(data)  # the bytearray registered for this pipe
                    if key.data is out and on_stdout is not None:
                        on_stdout(data)
            code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            raise DeviceError(f"adb shell {args[0]} did not exit on {self.where}", "check the device") from None
        finally:
            sel.close()
            feeder.join(timeout=1)
            for pipe in (proc.stdout, proc.stderr):
                pipe.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if code == 127 and re.search(rb"\btimeout: (?:command )?not found", bytes(err)):
            raise ToolMissingError(f"adb device {self.where} has no `timeout` command, which bounds every command edgekit runs",
                                   "use Android 6 or later (toybox), or put a busybox with timeout on PATH")
        return RunResult(exit_code=code, stdout=bytes(out), stderr=bytes(err))
