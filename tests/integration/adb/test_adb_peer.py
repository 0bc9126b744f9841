"""The ADB test peer proved with the real `adb` client: connect, push, pull, shell exit codes."""

from __future__ import annotations

import os
import subprocess

import pytest

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
