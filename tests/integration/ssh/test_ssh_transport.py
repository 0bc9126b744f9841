"""The SSH transport against a real sshd: exit codes, streaming, quoting, files, host keys."""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path, PurePosixPath

import paramiko
import psutil
import pytest

from edgekit.core.errors import DeviceError
from edgekit.transports.ssh import SshOptions, SshTransport

pytestmark = pytest.mark.integration

NASTY = "we ird; $(touch PWNED) 'q\"`touch PWNED2`&|<>*?.bin"


def _options(sshd, **overrides) -> SshOptions:
    base = dict(host=sshd.host, port=sshd.port, user=pwd.getpwuid(os.getuid()).pw_name,
                key_file=str(sshd.key_file), known_hosts=str(sshd.known_hosts))
    return SshOptions(**{**base, **overrides})


def test_exit_codes_stdin_and_streamed_output_on_one_connection(sshd, tmp_path):
    before = sshd.connections()
    chunks: list[bytes] = []
    with SshTransport(_options(sshd)) as t:
        r = t.run(["sh", "-c", "echo out; echo err >&2; exit 7"], timeout_s=10)
        assert (r.exit_code, r.stdout, r.stderr) == (7, b"out\n", b"err\n")
        r = t.run(["cat"], timeout_s=10, stdin=b"bytes \x00\xff in")
        assert (r.exit_code, r.stdout) == (0, b"bytes \x00\xff in")
        r = t.run(["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.05; done"], 10, on_stdout=chunks.append)
        assert b"".join(chunks) == r.stdout == b"line1\nline2\nline3\n"
        assert len(chunks) >= 2  # arrived as they were printed, not in one piece at the end
        with pytest.raises(DeviceError, match="did not finish within 0.3 s"):
            t.run(["sleep", "5"], timeout_s=0.3)
        assert t.run(["true"], 10).exit_code == 0  # the connection survives a timed-out command
    assert sshd.connections() - before == 1


def test_every_argument_is_quoted(sshd, tmp_path):
    args = [NASTY, "$HOME", "a b", "", "*", "\\", "'", '"', "\n"]
    with SshTransport(_options(sshd)) as t:
        r = t.run(["python3", "-c", "import json, sys; print(json.dumps(sys.argv[1:]))", *args], 10)
    assert r.exit_code == 0
    assert json.loads(r.stdout) == args
    home = Path(sshd.state / "device-home")
    for d in (home, Path.cwd(), tmp_path):
        assert not (d / "PWNED").exists() and not (d / "PWNED2").exists()


def test_push_pull_round_trip_with_awkward_names(sshd, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    remote = PurePosixPath(tmp_path / "remote dir" / "sub;dir" / NASTY)
    with SshTransport(_options(sshd)) as t:
        t.push(str(src), remote)
        t.pull(remote, str(tmp_path / "back.bin"))
        with pytest.raises(DeviceError, match="no such file"):
            t.pull(PurePosixPath(tmp_path / "absent"), str(tmp_path / "x"))
    assert Path(remote).read_bytes() == data
    assert (tmp_path / "back.bin").read_bytes() == data
    assert [p.name for p in Path(remote).parent.iterdir()] == [NASTY]  # no temp file left behind


def test_unknown_host_is_refused_unless_trust_on_first_use(sshd, tmp_path):
    known = tmp_path / "known_hosts"
    with pytest.raises(DeviceError, match="does not exist"):
        SshTransport(_options(sshd, known_hosts=str(known))).open()
    known.write_text("")
    with pytest.raises(DeviceError, match="unknown host refused"):
        SshTransport(_options(sshd, known_hosts=str(known))).open()
    with SshTransport(_options(sshd, known_hosts=str(known), trust_on_first_use=True)) as t:
        assert t.run(["true"], 10).exit_code == 0
    recorded = known.read_text().split()
    assert recorded == sshd.known_hosts.read_text().split()  # the key was written down, exactly
    with SshTransport(_options(sshd, known_hosts=str(known))) as t:  # now strict checking passes
        assert t.run(["true"], 10).exit_code == 0


def test_wrong_host_key_is_refused_even_with_trust_on_first_use(sshd, tmp_path):
    other = paramiko.Ed25519Key.from_private_key_file(str(sshd.key_file))  # a valid key, not the host's
    known = tmp_path / "known_hosts"
    known.write_text(f"[{sshd.host}]:{sshd.port} {other.get_name()} {other.get_base64()}\n")
    for tofu in (False, True):
        with pytest.raises(DeviceError, match="does not match"):
            SshTransport(_options(sshd, known_hosts=str(known), trust_on_first_use=tofu)).open()
    assert known.read_text().count("\n") == 1  # nothing was added


def test_bad_key_file_unknown_key_and_closed_port_fail_clearly(sshd, tmp_path):
    from edgekit.core.errors import InputFileError

    with pytest.raises(InputFileError, match="does not exist"):
        SshTransport(_options(sshd, key_file=str(tmp_path / "nokey"))).open()
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    with pytest.raises(DeviceError, match="authentication failed"):
        SshTransport(_options(sshd, key_file=str(stranger))).open()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with pytest.raises(DeviceError, match="cannot reach"):
        SshTransport(_options(sshd, port=closed_port)).open()


def test_output_arriving_with_the_exit_status_is_not_lost(sshd, monkeypatch):
    """The last output, the EOF and the exit status can all land between the loop's "anything to
    read?" check and its "has it exited?" check. Make that certain: the exit check waits for the
    status (which comes after the output), so every run would lose its last line without the drain."""
    real = paramiko.Channel.exit_status_ready

    def late_exit_status_ready(chan) -> bool:
        chan.status_event.wait(5)
        return real(chan)

    monkeypatch.setattr(paramiko.Channel, "exit_status_ready", late_exit_status_ready)
    with SshTransport(_options(sshd)) as t:
        for _ in range(5):
            chunks: list[bytes] = []
            r = t.run(["sh", "-c", "sleep 0.05; echo LAST; echo ERR >&2"], 10, on_stdout=chunks.append)
            assert (r.exit_code, r.stdout, r.stderr) == (0, b"LAST\n", b"ERR\n")
            assert b"".join(chunks) == b"LAST\n"  # the streamed copy is complete too


def test_a_timed_out_command_leaves_no_process_behind(sshd):
    marker = f"edgekit-test-{uuid.uuid4().hex}"

    def running() -> list[psutil.Process]:
        return [p for p in psutil.process_iter(["cmdline"]) if marker in (p.info["cmdline"] or [])]

    with SshTransport(_options(sshd)) as t:
        with pytest.raises(DeviceError, match="did not finish within 0.5 s"):
            t.run([sys.executable, "-c", "import time; time.sleep(60)", marker], timeout_s=0.5)
        deadline = time.monotonic() + 10  # the device's timeout fires about a second after ours
        while running() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = running()
        for p in left:
            p.kill()
        assert left == []
        assert t.run(["true"], 10).exit_code == 0


def test_user_dollar_user_is_whoever_runs_edgekit(sshd, tmp_path):
    o = SshOptions.from_profile({"host": sshd.host, "port": sshd.port, "user": "$USER", "key_file": str(sshd.key_file),
                                 "known_hosts": str(sshd.known_hosts)})
    with SshTransport(o) as t:
        r = t.run(["id", "-un"], 10)
    assert r.stdout.decode().strip() == o.user == pwd.getpwuid(os.getuid()).pw_name
