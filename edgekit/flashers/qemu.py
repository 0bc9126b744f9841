"""QEMU "flasher": boots a firmware ELF on an emulated MPS2/MPS3 board and always stops it again.

The board runs with ``-icount shift=0`` (the SysTick counter then advances with executed
instructions: deterministic counts, not cycles of a real chip), semihosting (exit status) and its
UART on a TCP socket on 127.0.0.1 with TCP_NODELAY; ``wait=on`` holds the CPU until the host has
connected, so the BOOT frame is never lost.

No emulator outlives its host: it runs in its own process group, is killed when the session ends
(context manager), at interpreter exit (atexit), on SIGTERM/SIGHUP, and — if the host dies without
running any of that (SIGKILL, a crash) — by the kernel, through PR_SET_PDEATHSIG set in the child.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

from edgekit.core.errors import DeviceError, ProfileError, ToolMissingError
from edgekit.flashers.base import BoardSession, Flasher, Preload
from edgekit.transports.serial import SerialOptions, options_for_profile

QEMU = "qemu-system-arm"
_PR_SET_PDEATHSIG = 1
_LIVE: set["QemuSession"] = set()
_LIVE_LOCK = threading.Lock()
_HANDLERS_INSTALLED = False


@dataclass(frozen=True)
class QemuOptions:
    icount_shift: int = 0            # 0: one instruction = 1 ns of virtual time
    qmp: bool = False                # a QMP socket (tests use it to pause or reset the board)
    start_timeout_s: float = 10.0
    port_attempts: int = 5           # a free port can be taken between choosing and binding it


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child_setup(parent_pid: int) -> None:  # pragma: no cover - runs in the forked child
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:   # the parent died before prctl took effect
        os._exit(1)


def _kill_all() -> None:
    with _LIVE_LOCK:
        live = list(_LIVE)
    for s in live:
        s.stop()


def _on_signal(signum: int, frame: Any) -> None:
    _kill_all()
    previous = _PREVIOUS.get(signum)
    if callable(previous):
        previous(signum, frame)
    else:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


_PREVIOUS: dict[int, Any] = {}


def _install_handlers() -> None:
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(_kill_all)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit + PDEATHSIG remain
    for signum in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(signum)
        if previous in (signal.SIG_IGN,):
            continue
        _PREVIOUS[signum] = previous if previous is not signal.SIG_DFL else None
        signal.signal(signum, _on_signal)


def live_pids() -> list[int]:
    """PIDs of the emulators this process still runs (tests check that this ends empty)."""
    with _LIVE_LOCK:
        return [s.pid for s in _LIVE]


class QemuSession(BoardSession):
    boot_announced: ClassVar[bool] = True
    has_exit_code: ClassVar[bool] = True

    def __init__(self, proc: subprocess.Popen[bytes], port: int, workdir: Path, profile_url: SerialOptions,
                 qmp_path: Path | None) -> None:
        self._proc = proc
        self.pid = proc.pid
        self.port = port
        self.workdir = workdir
        self._serial = profile_url
        self.qmp_path = qmp_path
        self._stopped = False

    def serial_options(self) -> SerialOptions:
        return self._serial

    def alive(self) -> bool:
        return self._proc.poll() is None

    def exit_code(self, timeout_s: float = 0.0) -> int | None:
        try:
            return self._proc.wait(timeout=timeout_s) if timeout_s > 0 else self._proc.poll()
        except subprocess.TimeoutExpired:
            return None

    def log(self) -> str:
        """What QEMU wrote to stdout/stderr (semihosting console, errors)."""
        parts = []
        for name in ("stdout.txt", "stderr.txt"):
            p = self.workdir / name
            if p.is_file():
                parts.append(p.read_text(errors="replace"))
        return "".join(parts).strip()

    def qmp(self, command: str, arguments: dict[str, Any] | None = None, timeout_s: float = 5.0) -> Any:
        """Run one QMP command (e.g. "stop", "cont", "system_reset"); needs QemuOptions(qmp=True)."""
        if self.qmp_path is None:
            raise DeviceError("this QEMU session has no QMP socket", "start it with QemuOptions(qmp=True)")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout_s)
            s.connect(str(self.qmp_path))
            f = s.makefile("rwb")
            json.loads(f.readline())                                   # greeting
            for msg in ({"execute": "qmp_capabilities"}, {"execute": command, "arguments": arguments or {}}):
                f.write(json.dumps(msg).encode() + b"\n")
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break
            if "error" in reply:
                raise DeviceError(f"QMP {command} failed: {reply['error'].get('desc', reply['error'])}")
            return reply["return"]

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._proc.poll() is None:
                try:
                    os.killpg(self._proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    self._proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(self._proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self._proc.wait(timeout=5)
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(self)
            shutil.rmtree(self.workdir, ignore_errors=True)


class QemuFlasher(Flasher):
    method = "qemu"
    supports_preload = True

    def __init__(self, profile: Any, options: QemuOptions = QemuOptions()) -> None:
        super().__init__(profile)
        self.options = options
        if "qemu_machine" not in profile.flash:
            raise ProfileError(f"{profile.path} [flash]: method qemu needs qemu_machine", "add qemu_machine")

    def argv(self, image: Path, port: int, preloads: Sequence[Preload] = (), qmp_path: Path | None = None) -> list[str]:
        flash = self.profile.flash
        argv = [QEMU, "-M", str(flash["qemu_machine"])]
        if "qemu_cpu" in flash:
            argv += ["-cpu", str(flash["qemu_cpu"])]
        argv += ["-nographic", "-monitor", "none", "-icount", f"shift={self.options.icount_shift}",
                 "-semihosting-config", "enable=on,target=native",
                 "-chardev", f"socket,id=ek0,host=127.0.0.1,port={port},server=on,wait=on,nodelay=on",
                 "-serial", "chardev:ek0", "-kernel", str(image)]
        for p in preloads:
            argv += ["-device", f"loader,file={p.path},addr=0x{p.address:x},force-raw=on"]
        if qmp_path is not None:
            argv += ["-qmp", f"unix:{qmp_path},server=on,wait=off"]
        return argv

    def start(self, image: Path, preloads: Sequence[Preload] = ()) -> QemuSession:
        self._check_image(image)
        for p in preloads:
            if not Path(p.path).is_file():
                raise DeviceError(f"preload file {p.path} does not exist", "write the inputs file first")
        if shutil.which(QEMU) is None:
            raise ToolMissingError(f"{QEMU} is not installed", "apt-get install qemu-system-arm (or run make setup)")
        _install_handlers()
        last_err = ""
        for _ in range(self.options.port_attempts):
            session = self._launch(image, preloads)
            err = self._wait_listening(session)
            if err is None:
                return session
            session.stop()
            last_err = err
            if "in use" not in err:
                break
        raise DeviceError(f"QEMU ({self.profile.flash['qemu_machine']}) did not start: {last_err}",
                          "run the printed qemu-system-arm command by hand to see why")

    def _launch(self, image: Path, preloads: Sequence[Preload]) -> QemuSession:
        workdir = Path(tempfile.mkdtemp(prefix="edgekit-qemu-"))
        port = _free_port()
        qmp_path = workdir / "qmp.sock" if self.options.qmp else None
        argv = self.argv(image, port, preloads, qmp_path)
        (workdir / "argv.txt").write_text(" ".join(argv))
        parent = os.getpid()
        with open(workdir / "stdout.txt", "wb") as out, open(workdir / "stderr.txt", "wb") as err:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, preexec_fn=functools.partial(_child_setup, parent))
        session = QemuSession(proc, port, workdir, options_for_profile(self.profile, port), qmp_path)
        with _LIVE_LOCK:
            _LIVE.add(session)
        return session

    def _wait_listening(self, session: QemuSession) -> str | None:
        """None once QEMU accepts connections on its serial port; else the reason it does not."""
        deadline = time.monotonic() + self.options.start_timeout_s
        while time.monotonic() < deadline:
            if not session.alive():
                return session.log() or f"exited with status {session.exit_code()}"
            try:
                # a bare probe would consume QEMU's single wait=on accept: only look at the socket table
                if _listening(session.port):
                    return None
            except OSError:
                pass
            time.sleep(0.02)
        return f"not listening on 127.0.0.1:{session.port} after {self.options.start_timeout_s:g} s"



def _listening(port: int) -> bool:
    """Whether some socket listens on 127.0.0.1:port (from /proc/net/tcp, without connecting)."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":   # 0A = LISTEN
                    return True
    except FileNotFoundError:
        return True   # not Linux: let the serial open retry until QEMU listens
    return False
