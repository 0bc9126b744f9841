"""The ADB test peer (tools/adb_peer) plus a private adb server, for the ADB tests.

The adb client always talks to an adb server process; these tests start theirs on a free port
(ANDROID_ADB_SERVER_PORT) with its own HOME (where it keeps its key), never the shared 5037 one,
and kill it afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MLPERF = ("kws_ref_model_int8", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8")


def _root_conftest():
    name = "edgekit_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "conftest.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


@dataclass
class AdbPeer:
    proc: subprocess.Popen
    port: int
    sandbox: Path
    server_port: int

    @property
    def serial(self) -> str:
        return f"127.0.0.1:{self.port}"

    def adb(self, *args: str, stdin: bytes | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(["adb", "-s", self.serial, *args], input=stdin, capture_output=True, timeout=timeout,
                              stdin=None if stdin is not None else subprocess.DEVNULL)

    def profile_toml(self, workdir: Path) -> str:
        return (f'name = "adb peer"\nkind = "android"\ncpu = "x86_64 (host)"\nram_bytes = 1_073_741_824\n'
                f'flash_bytes = 1_073_741_824\nemulated = false\ntiming = "wallclock"\n\n'
                f'[transport]\nkind = "adb"\nserial = "{self.serial}"\nworkdir = "{workdir}"\n'
                f'python = "{sys.executable}"\n\n[energy]\nmeter = "none"\n')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def adb_peer(tmp_path_factory):
    """Module-scoped: the environment is changed only while this module's tests run."""
    if shutil.which("adb") is None:
        pytest.skip("the adb client is not installed (apt-get install adb)")
    root = tmp_path_factory.mktemp("adb")
    sandbox, home = root / "sandbox", root / "home"
    home.mkdir()
    server_port = _free_port()
    saved = {k: os.environ.get(k) for k in ("ANDROID_ADB_SERVER_PORT", "HOME", "ADB_SERVER_SOCKET")}
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(server_port)
    os.environ["HOME"] = str(home)
    os.environ.pop("ADB_SERVER_SOCKET", None)
    port_file = root / "port"
    proc = subprocess.Popen([sys.executable, str(REPO / "tools" / "adb_peer"), "--sandbox", str(sandbox),
                             "--port-file", str(port_file)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"adb peer did not start: {proc.stderr.read().decode(errors='replace')}")
            time.sleep(0.02)
        yield AdbPeer(proc, int(port_file.read_text()), sandbox.resolve(), server_port)
    finally:
        proc.kill()
        proc.wait()
        subprocess.run(["adb", "-P", str(server_port), "kill-server"], capture_output=True, timeout=30)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def connected(adb_peer):
    r = subprocess.run(["adb", "connect", adb_peer.serial], capture_output=True, timeout=30)
    assert b"connected to" in r.stdout, r.stdout + r.stderr
    yield adb_peer
    subprocess.run(["adb", "disconnect", adb_peer.serial], capture_output=True, timeout=30)


@pytest.fixture(scope="session")
def mlperf_models():
    assets = _root_conftest().ASSETS
    paths = [assets / "models" / "mlperf_tiny" / f"{m}.tflite" for m in MLPERF]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"MLPerf Tiny models {', '.join(missing)} not found under {assets}")
    return paths
