"""No emulator outlives its host: killed (SIGKILL: the kernel's parent-death signal), terminated
(SIGTERM handler), interrupted (Ctrl-C through the context manager), crashed (an exception in the
with block) or simply exiting without stopping it (atexit)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgekit.core.profile import load_profile
from edgekit.targets.mcu import build_firmware

from _support import load_slack

from .conftest import FIXTURE_LIB, REPO

pytestmark = pytest.mark.integration

HOST = """
import sys, time
from pathlib import Path
from edgekit.core.profile import load_profile
from edgekit.flashers.qemu import QemuFlasher
mode, elf = sys.argv[1], Path(sys.argv[2])
session = QemuFlasher(load_profile("qemu-m4")).start(elf)
print(session.pid, flush=True)
sys.stdin.readline()                 # the test has seen the emulator alive
if mode == "exit":
    sys.exit(0)                      # never stopped by hand: atexit must do it
with session:
    if mode == "raise":
        raise RuntimeError("host crashed")
    print("inside", flush=True)      # the signal must find the host inside the with block
    time.sleep(60)
"""


@pytest.fixture(scope="module")
def elf(tmp_path_factory):
    return build_firmware(load_profile("qemu-m4"), FIXTURE_LIB, "tinymlp", tmp_path_factory.mktemp("leak")).elf


def _interactive_signals() -> None:
    """The host starts as a program started from a terminal does. A test run started in the
    background by a non-interactive shell (CI, `make test &`) ignores SIGINT and SIGQUIT, and a
    child inherits that: its Ctrl-C would never arrive."""
    for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("mode,sig", [("sleep", signal.SIGKILL), ("sleep", signal.SIGTERM), ("sleep", signal.SIGINT),
                                      ("raise", None), ("exit", None)])
def test_no_qemu_survives_its_host(elf, mode, sig):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    host = subprocess.Popen([sys.executable, "-c", HOST, mode, str(elf)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
                            preexec_fn=_interactive_signals)
    try:
        line = host.stdout.readline()
        assert line.strip().isdigit(), host.stderr.read().decode()
        qemu_pid = int(line)
        assert alive(qemu_pid)
        host.stdin.write(b"go\n")
        host.stdin.flush()
        if sig is not None:
            assert host.stdout.readline().strip() == b"inside"
            host.send_signal(sig)
        host.wait(timeout=20 * load_slack())
        assert gone_within(qemu_pid, 10), f"qemu {qemu_pid} survived its host ({mode}, {sig})"
    finally:
        if host.poll() is None:
            host.kill()
