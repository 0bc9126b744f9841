"""A device with its own network address: sshd inside a network namespace the test creates, reached
over a veth pair (skipped with the reason when this machine does not allow namespaces)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from edgekit.cli.main import main

pytestmark = pytest.mark.integration


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def netns_device(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    n = os.getpid() % 200 + 20
    ns, host_if, dev_if = f"edgekit-t{n}", f"ekh{n}", f"ekd{n}"
    host_ip, dev_ip = f"10.213.{n}.1", f"10.213.{n}.2"
    try:
        _ip("netns", "add", ns)
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        pytest.skip(f"cannot create a network namespace here: {getattr(e, 'stderr', b'') or e}")
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
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)


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
