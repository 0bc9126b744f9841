"""The ADB test peer (tools/adb_peer) plus a private adb server, for the ADB tests.

The adb client always talks to an adb server process; these tests start theirs on a free port
(ANDROID_ADB_SERVER_PORT) with its own HOME (where it makes a key of its own, which the peer
refuses) and a test key pair in ADB_VENDOR_KEYS (the one the peer lets in), never the shared 5037
server, and kill it afterwards. Peers listen on free ports: pytest-xdist workers share nothing.
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
    log: Path

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

    def stop(self) -> str:
        """Kill the peer (only it: its commands were killed with their streams); its log."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> Path:
    """An adb RSA key pair made by the adb client itself: path (private) and path.pub (ADB format)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["adb", "keygen", str(path)], check=True, capture_output=True, timeout=30)
    return path


def start_peer(root: Path, name: str, allowed_pub: Path, server_port: int) -> AdbPeer:
    """tools/adb_peer on a free 127.0.0.1 port, letting in only the keys in allowed_pub. Its stderr
    goes to a file (read after it is killed), never to a pipe nobody drains."""
    sandbox, port_file, log = root / f"{name}-sandbox", root / f"{name}.port", root / f"{name}.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen([sys.executable, str(REPO / "tools" / "adb_peer"), "--sandbox", str(sandbox),
                                 "--adb-keys", str(allowed_pub), "--port-file", str(port_file), "--verbose"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=logf)
    peer = AdbPeer(proc, 0, sandbox.resolve(), server_port, log)
    deadline = time.monotonic() + 10
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"adb peer did not start: {peer.stop()}")
        time.sleep(0.02)
    peer.port = int(port_file.read_text())
    return peer


_ENV = ("ANDROID_ADB_SERVER_PORT", "HOME", "ADB_SERVER_SOCKET", "ADB_VENDOR_KEYS", "ANDROID_SDK_HOME",
        "ANDROID_USER_HOME")


@pytest.fixture(scope="module")
def adb_env(tmp_path_factory):
    """A private adb server (free port, own HOME) holding a test key pair in ADB_VENDOR_KEYS; the
    environment is changed only while this module's tests run. Yields (root, key)."""
    if shutil.which("adb") is None:
        pytest.skip("the adb client is not installed (apt-get install adb)")
    root = tmp_path_factory.mktemp("adb")
    home = root / "home"
    home.mkdir()
    key = keygen(root / "keys" / "adbkey")
    server_port = _free_port()
    saved = {k: os.environ.get(k) for k in _ENV}
    for k in _ENV:
        os.environ.pop(k, None)
    os.environ.update(ANDROID_ADB_SERVER_PORT=str(server_port), HOME=str(home), ADB_VENDOR_KEYS=str(key))
    try:
        subprocess.run(["adb", "start-server"], check=True, capture_output=True, timeout=30)
        yield root, key, server_port
    finally:
        subprocess.run(["adb", "-P", str(server_port), "kill-server"], capture_output=True, timeout=30)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def adb_peer(adb_env):
    """The peer, letting in the test key the adb server holds."""
    root, key, server_port = adb_env
    peer = start_peer(root, "peer", Path(f"{key}.pub"), server_port)
    try:
        yield peer
    finally:
        peer.stop()


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


@pytest.fixture
def adb_keygen():
    return keygen


@pytest.fixture
def extra_peer(adb_env, tmp_path):
    """Start another peer letting in only the given public key file; it is killed after the test."""
    started: list[AdbPeer] = []

    def start(name: str, allowed_pub: Path) -> AdbPeer:
        started.append(start_peer(tmp_path, name, allowed_pub, adb_env[2]))
        return started[-1]

    yield start
    for peer in started:
        if peer.proc.poll() is None:
            peer.stop()
