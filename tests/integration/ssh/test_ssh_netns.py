"""A device with its own network address: sshd inside a network namespace the test creates, reached
over a veth pair (skipped with the reason when this machine does not allow namespaces). Names and
addresses are unique per run (creator pid + random), so pytest-xdist workers never collide and a
killed run's leftovers are removed rather than turning the test into a skip."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys

import psutil
import pytest

from edgekit.cli.main import main

pytestmark = pytest.mark.integration


_PREFIX = "edgekit-t"  # namespaces this test makes: edgekit-t<creator pid>-<random>


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _remove_stale_namespaces() -> None:
    """Delete the namespaces of test runs that were killed before cleaning up (their creator is
    gone); a live pytest-xdist worker's namespaces are left alone. The veth pair goes with it."""
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        m = re.fullmatch(re.escape(_PREFIX) + r"(\d+)-[0-9a-f]+", name)
        if m and not psutil.pid_exists(int(m.group(1))):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


def _free_subnet() -> int:
    """A random /30 in 10.213.0.0/16 that no interface here uses (two xdist workers never share one)."""
    used = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True, timeout=30).stdout
    for _ in range(100):
        n = secrets.randbelow(16384)
        if f"10.213.{n // 64}.{(n % 64) * 4 + 1}/" not in used:
            return n
    pytest.fail("no free /30 in 10.213.0.0/16")


@pytest.fixture
def netns_device(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 (`ip`) is not installed")
    _remove_stale_namespaces()
    tag = f"{os.getpid()}-{secrets.token_hex(2)}"
    ns, host_if, dev_if = f"{_PREFIX}{tag}", f"ekh{tag}", f"ekd{tag}"  # interface names: 15 bytes at most
    n = _free_subnet()
    host_ip, dev_ip = f"10.213.{n // 64}.{(n % 64) * 4 + 1}", f"10.213.{n // 64}.{(n % 64) * 4 + 2}"
    try:
        _ip("netns", "add", ns)
    except subprocess.CalledProcessError as e:
        pytest.skip(f"cannot create a network namespace here: {e.stderr.decode(errors='replace').strip()}")
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", dev_if)
        _ip("link", "set", dev_if, "netns", ns)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        for cmd in (["addr", "add", f"{dev_ip}/30", "dev", dev_if], ["link", "set", dev_if, "up"], ["link", "set", "lo", "up"]):
            _ip("netns", "exec", ns, "ip", *cmd)
        handle = sys.modules["sshd_local"].start_sshd(tmp_path / "sshd", host=dev_ip, netns=ns)
        try:
            yield handle
        finally:
            handle.stop()
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, timeout=30)


def test_profile_a_device_in_its_own_network_namespace(netns_device, mlperf_models, tmp_path, capsys):
    assert netns_device.host.startswith("10.213.")
    prof = tmp_path / "ns-device.toml"
    prof.write_text(netns_device.profile_toml(python=sys.executable, workdir=str(tmp_path / "wd")))
    capsys.readouterr()
    assert main(["profile", str(mlperf_models[0]), str(mlperf_models[-1]), "--device", str(prof),
                 "--traces", str(tmp_path / "t"), "--repeats", "20", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["model_name"] for r in rows] == [mlperf_models[0].stem, mlperf_models[-1].stem]
    assert all(r["device_id"] == "ns-device" and r["latency_ms_p50"] > 0 for r in rows)
    assert netns_device.connections() == 1
