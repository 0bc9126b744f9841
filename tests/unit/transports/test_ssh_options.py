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


def test_dollar_user_in_a_profile_is_the_user_running_edgekit():
    import os
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    o = SshOptions.from_profile(load_profile("localhost-ssh").transport)
    assert o.user == me and o.where == f"{me}@127.0.0.1:{o.port}"
    assert SshOptions.from_profile({"host": "h", "user": "pi"}).user == "pi"  # other names are taken as written


def test_commands_run_under_the_devices_timeout():
    from edgekit.transports.adb import device_deadline_argv as adb_argv
    from edgekit.transports.ssh import device_deadline_argv, missing_timeout

    for wrap in (device_deadline_argv, adb_argv):
        # whole seconds (busybox takes no fractions), at least a second after the host gives up
        assert wrap(["python3", "r.py", "--x"], 0.5) == ["timeout", "-s", "KILL", "2", "python3", "r.py", "--x"]
        assert wrap(["a"], 900.0)[3] == "901"
    assert missing_timeout(127, b"sh: 1: timeout: not found\n")
    assert missing_timeout(127, b"bash: line 1: timeout: command not found\n")
    assert not missing_timeout(127, b"timeout: failed to run command 'python3': No such file or directory\n")
    assert not missing_timeout(1, b"timeout: not found")
