#!/usr/bin/env python3
"""Start / stop a private sshd on loopback: the Linux "device" for tests and `make demo`.

    sshd_local.py start [--port 2222] [--state DIR] [--profile-out PATH]
    sshd_local.py stop  [--state DIR]

It has its own host key, its own authorized client key and its own config, listens on 127.0.0.1
only, and writes the client key and a known_hosts line where device_profiles/localhost-ssh.toml
points (~/.cache/edgekit/localhost-ssh/) unless told otherwise. Sessions get a clean HOME and a
PATH whose first entry holds the Python that has LiteRT (this venv's), so the profile's
`python = "python3"` finds the runtime the way it would on a prepared board.

Tests import this file (start_sshd / SshdHandle) to start one sshd per test session.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STATE = Path("~/.cache/edgekit/localhost-ssh").expanduser()
SSHD = "/usr/sbin/sshd"


@dataclass
class SshdHandle:
    proc: subprocess.Popen
    host: str
    port: int
    state: Path
    key_file: Path
    known_hosts: Path
    log: Path

    def profile_toml(self, python: str = "python3", workdir: str | None = None, name: str = "loopback sshd") -> str:
        workdir = workdir or str(self.state / "device-workdir")
        return (f'name = "{name}"\nkind = "linux"\ncpu = "x86_64 (host)"\nram_bytes = 1_073_741_824\n'
                f'flash_bytes = 1_073_741_824\nemulated = false\ntiming = "wallclock"\ncores = {os.cpu_count() or 1}\n\n'
                f'[transport]\nkind = "ssh"\nhost = "{self.host}"\nport = {self.port}\nuser = "{_user()}"\n'
                f'key_file = "{self.key_file}"\nknown_hosts = "{self.known_hosts}"\nworkdir = "{workdir}"\n'
                f'python = "{python}"\n\n[energy]\nmeter = "none"\n')

    def stop(self) -> None:
        """Stop it; a second call does nothing (once reaped, its pid may be another process's)."""
        if self.proc.poll() is not None:
            return
        stop_pid(self.proc.pid)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def connections(self) -> int:
        """How many SSH logins this sshd accepted (from its log)."""
        return self.log.read_text(errors="replace").count("Accepted publickey")


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    if not path.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgekit-local", "-f", str(path)],
                       check=True, stdout=subprocess.DEVNULL)


def prepare_keys(state: Path, key_file: Path | None = None) -> tuple[Path, Path]:
    """Host key and client key in `state` (made once); authorized_keys holds the client key."""
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    host_key = state / "ssh_host_ed25519_key"
    client_key = key_file or state / "id_ed25519"
    client_key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _keygen(host_key)
    _keygen(client_key)
    (state / "authorized_keys").write_text(Path(f"{client_key}.pub").read_text())
    return host_key, client_key


def write_known_hosts(path: Path, host: str, port: int, host_key: Path) -> None:
    kind, blob = Path(f"{host_key}.pub").read_text().split()[:2]
    entry = host if port == 22 else f"[{host}]:{port}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{entry} {kind} {blob}\n")
    path.chmod(0o600)


def _config(state: Path, host: str, port: int, host_key: Path, device_path: str) -> Path:
    home = state / "device-home"
    home.mkdir(exist_ok=True)
    cfg = state / f"sshd_config.{port}"
    cfg.write_text("\n".join([
        f"Port {port}", f"ListenAddress {host}", f"HostKey {host_key}", "PidFile none",
        f"AuthorizedKeysFile {state / 'authorized_keys'}", f"AllowUsers {_user()}",
        "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password", "UsePAM no", "StrictModes no", "UseDNS no",
        "Subsystem sftp internal-sftp", "LogLevel INFO", "MaxStartups 50",
        # a clean session environment, like a freshly prepared board
        f"SetEnv HOME={home} PATH={device_path}", "",
    ]))
    return cfg


def start_sshd(state: Path = DEFAULT_STATE, port: int | None = None, host: str = "127.0.0.1",
               key_file: Path | None = None, known_hosts: Path | None = None, netns: str | None = None,
               python_dir: str | None = None, timeout_s: float = 10.0) -> SshdHandle:
    """Start sshd -D in the foreground of a child process and wait until it accepts connections."""
    if not Path(SSHD).exists():
        raise RuntimeError(f"{SSHD} not found (install openssh-server)")
    state = state.expanduser()
    host_key, client_key = prepare_keys(state, key_file)
    port = port or free_port(host if netns is None else "127.0.0.1")
    known_hosts = (known_hosts or state / "known_hosts").expanduser()
    write_known_hosts(known_hosts, host, port, host_key)
    device_path = ":".join([python_dir or str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
    cfg = _config(state, host, port, host_key, device_path)
    if os.getuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = state / f"sshd.{port}.log"
    argv = [SSHD, "-D", "-e", "-f", str(cfg), "-p", str(port)]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    with open(log, "wb") as logf:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text(errors='replace')[-500:]}")
        try:
            with socket.create_connection((host, port), timeout=0.5) as s:
                if s.recv(4) == b"SSH-":
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_pid(proc.pid)
            raise RuntimeError(f"sshd did not accept connections on {host}:{port} within {timeout_s} s")
        time.sleep(0.05)
    return SshdHandle(proc, host, port, state, client_key, known_hosts, log)


def stop_pid(pid: int) -> None:
    """Stop one sshd we started and the per-connection sshd processes it forked (they call setsid,
    so they are found as its children, by id, not by name)."""
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for p in [psutil.Process(pid), *children]:
        try:
            p.send_signal(signal.SIGKILL if p.pid != pid else signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start", help="start the loopback sshd in the background")
    st.add_argument("--port", type=int, default=2222)
    st.add_argument("--state", type=Path, default=DEFAULT_STATE, help="keys, config, log (default %(default)s)")
    st.add_argument("--key-file", type=Path, default=None, help="client key to write (default STATE/id_ed25519)")
    st.add_argument("--known-hosts", type=Path, default=None, help="known_hosts to write (default STATE/known_hosts)")
    st.add_argument("--profile-out", type=Path, default=None, help="also write a device profile for this sshd")
    sp = sub.add_parser("stop", help="stop the sshd started by `start`")
    sp.add_argument("--state", type=Path, default=DEFAULT_STATE)
    args = ap.parse_args(argv)
    pidfile = args.state.expanduser() / "sshd.pid"
    if args.cmd == "stop":
        if not pidfile.exists():
            print("sshd_local: not running")
            return 0
        stop_pid(int(pidfile.read_text()))
        pidfile.unlink()
        print("sshd_local: stopped")
        return 0
    if pidfile.exists():
        stop_pid(int(pidfile.read_text()))
        time.sleep(0.2)
    h = start_sshd(args.state, args.port, key_file=args.key_file, known_hosts=args.known_hosts)
    pidfile.write_text(str(h.proc.pid))
    if args.profile_out:
        args.profile_out.write_text(h.profile_toml())
    print(f"sshd_local: listening on {h.host}:{h.port} (pid {h.proc.pid}); key {h.key_file}, known_hosts {h.known_hosts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
