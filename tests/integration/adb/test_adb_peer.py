"""The ADB test peer proved with the real `adb` client: connect, push, pull, shell exit codes; its
authentication (at the protocol level and with the real client) and the killing of abandoned commands."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from edgekit.core.errors import DeviceError
from edgekit.transports.adb import AdbTransport

pytestmark = pytest.mark.integration


def test_connect_lists_the_device_with_shell_v2(connected):
    devices = subprocess.run(["adb", "devices"], capture_output=True, timeout=30).stdout.decode()
    assert f"{connected.serial}\tdevice" in devices
    assert connected.adb("features").stdout.split() == [b"shell_v2"]
    assert connected.adb("get-state").stdout.strip() == b"device"


def test_shell_exit_code_stdout_stderr_and_stdin(connected):
    r = connected.adb("shell", "echo out; echo err >&2; exit 42")
    assert (r.returncode, r.stdout, r.stderr) == (42, b"out\n", b"err\n")
    r = connected.adb("shell", "cat; exit 3", stdin=b"through stdin \x00\x01")
    assert (r.returncode, r.stdout) == (3, b"through stdin \x00\x01")
    r = connected.adb("shell", "pwd")
    assert r.stdout.decode().strip() == str(connected.sandbox)  # commands start in the sandbox
    big = connected.adb("shell", "head -c 1000000 /dev/zero | tr '\\0' 'x'")
    assert big.returncode == 0 and big.stdout == b"x" * 1_000_000  # many WRTE/OKAY round trips


def test_push_and_pull_round_trip(connected, tmp_path):
    data = os.urandom(700_000)  # several sync DATA chunks
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    remote = connected.sandbox / "dir with space" / "a;b $(x).bin"
    r = connected.adb("push", str(src), str(remote))
    assert r.returncode == 0, r.stderr
    assert remote.read_bytes() == data
    r = connected.adb("pull", str(remote), str(tmp_path / "back.bin"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "back.bin").read_bytes() == data
    r = connected.adb("shell", f"ls -l '{remote.parent}'")
    assert b"a;b $(x).bin" in r.stdout


def test_sync_is_confined_to_the_sandbox(connected, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"x")
    outside = tmp_path / "outside.bin"
    r = connected.adb("push", str(src), str(outside))
    assert r.returncode != 0 and b"outside the device sandbox" in r.stdout + r.stderr
    assert not outside.exists()
    r = connected.adb("push", str(src), str(connected.sandbox / ".." / "escape.bin"))
    assert r.returncode != 0 and not (connected.sandbox.parent / "escape.bin").exists()
    r = connected.adb("pull", "/etc/hostname", str(tmp_path / "h"))
    assert r.returncode != 0 and not (tmp_path / "h").exists()


# -- authentication ------------------------------------------------------------------------------
_HEADER = struct.Struct("<6I")
CNXN, AUTH, OPEN = (struct.unpack("<I", n)[0] for n in (b"CNXN", b"AUTH", b"OPEN"))
TOKEN, SIGNATURE, RSAPUBLICKEY = 1, 2, 3


def _send(sock: socket.socket, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
    sock.sendall(_HEADER.pack(command, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF, command ^ 0xFFFFFFFF) + data)


def _recv(sock: socket.socket) -> tuple[int, int, bytes]:
    """(command, arg0, payload) of the next message; ConnectionError when the peer hung up."""
    def exact(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    command, arg0, _arg1, length, _check, magic = _HEADER.unpack(exact(_HEADER.size))
    assert magic == command ^ 0xFFFFFFFF
    return command, arg0, exact(length) if length else b""


def _sign(private_key_file, token: bytes) -> bytes:
    """What the adb host does: RSA PKCS#1 v1.5 over the token taken as a SHA-1 digest."""
    key = serialization.load_pem_private_key(private_key_file.read_bytes(), password=None)
    return key.sign(token, padding.PKCS1v15(), Prehashed(hashes.SHA1()))


def _hello(peer) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", peer.port), timeout=10)
    _send(sock, CNXN, 0x01000001, 256 * 1024, b"host::\0")
    command, arg0, token = _recv(sock)
    assert (command, arg0, len(token)) == (AUTH, TOKEN, 20)
    return sock, token


def test_only_a_host_holding_an_allowed_key_gets_in(adb_peer, adb_env, adb_keygen, tmp_path):
    root, key, _ = adb_env
    stranger = adb_keygen(tmp_path / "stranger")
    sock, token = _hello(adb_peer)
    with sock:
        _send(sock, AUTH, SIGNATURE, 0, _sign(stranger, token))   # a key not in --adb-keys
        command, arg0, token2 = _recv(sock)
        assert (command, arg0) == (AUTH, TOKEN) and token2 != token  # try your next key, on a new token
        _send(sock, AUTH, SIGNATURE, 0, _sign(key, token))          # the right key, but the spent token
        command, arg0, token3 = _recv(sock)
        assert (command, arg0) == (AUTH, TOKEN)
        _send(sock, AUTH, SIGNATURE, 0, _sign(key, token3))
        command, _, banner = _recv(sock)
        assert command == CNXN and banner.startswith(b"device::") and b"features=shell_v2" in banner

    sock, _ = _hello(adb_peer)  # a public key is accepted only when it is already allowed
    with sock:
        _send(sock, AUTH, RSAPUBLICKEY, 0, Path(f"{stranger}.pub").read_bytes() + b"\0")
        sock.settimeout(0.5)
        with pytest.raises(socket.timeout):
            _recv(sock)  # left unauthorized: nothing comes back
        _send(sock, OPEN, 1, 0, b"shell:touch PWNED\0")  # and it may not open anything
        sock.settimeout(10)
        with pytest.raises(ConnectionError):
            _recv(sock)
    assert not (adb_peer.sandbox / "PWNED").exists()

    sock, _ = _hello(adb_peer)
    with sock:
        _send(sock, AUTH, RSAPUBLICKEY, 0, Path(f"{key}.pub").read_bytes() + b"\0")
        assert _recv(sock)[0] == CNXN


def test_the_real_client_with_a_key_the_device_does_not_allow(adb_keygen, extra_peer, tmp_path):
    peer = extra_peer("strict", Path(f"{adb_keygen(tmp_path / 'only-this')}.pub"))
    with pytest.raises(DeviceError, match="refused this computer's adb key"):
        AdbTransport(peer.serial).open()
    devices = subprocess.run(["adb", "devices"], capture_output=True, timeout=30).stdout.decode()
    assert peer.serial not in devices  # the refused connection is not left behind
    assert "not in the allowed list" in peer.stop()


# -- a command the host gave up on ---------------------------------------------------------------
def _running(marker: str) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        if marker in (p.info["cmdline"] or []):
            found.append(p)
    return found


def _wait_gone(marker: str, within_s: float) -> float:
    t0 = time.monotonic()
    while _running(marker):
        if time.monotonic() - t0 > within_s:
            for p in _running(marker):  # do not leak it into later tests
                p.kill()
            pytest.fail(f"the command marked {marker} still runs {within_s} s after its client was killed")
        time.sleep(0.05)
    return time.monotonic() - t0


def test_killing_the_client_kills_the_command_and_its_children(connected):
    marker = f"edgekit-test-{uuid.uuid4().hex}"
    # a shell whose child sleeps: the whole process group must go, not just the shell
    client = subprocess.Popen(["adb", "-s", connected.serial, "shell",
                               f"{sys.executable} -c 'import time; time.sleep(60)' {marker} & wait"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not _running(marker):
            assert time.monotonic() < deadline, "the command never started"
            time.sleep(0.05)
    finally:
        client.kill()
        client.wait()
    assert _wait_gone(marker, within_s=5) < 5
