from __future__ import annotations

from edgekit.core.profile import load_profile
from edgekit.transports.adb import _is_tcp_serial
from edgekit.transports.ssh import SshOptions


def test_options_from_profiles_and_known_hosts_names():
    o = SshOptions.from_profile(load_profile("rpi4").transport)
    assert (o.host, o.port, o.user, o.trust_on_first_use) == ("raspberrypi.local", 22, "pi", False)
    assert o.host_entry() == "raspberrypi.local"
    o = SshOptions.from_profile(load_profile("localhost-ssh").transport, trust_on_first_use=True)
    assert o.host_entry() == f"[127.0.0.1]:{o.port}" and o.trust_on_first_use


def test_adb_tcp_serials():
    assert _is_tcp_serial("127.0.0.1:5555") and _is_tcp_serial("phone.lan:5555")
    assert not _is_tcp_serial("R58M123ABC") and not _is_tcp_serial("") and not _is_tcp_serial("emulator-5554")
