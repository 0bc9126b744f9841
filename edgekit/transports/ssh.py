"""SSH transport (paramiko): one connection per session, SFTP files, exit codes from the channel.

Security defaults: the host key must already be in the profile's known_hosts (RejectPolicy);
trust-on-first-use only when asked, and then the new key is appended to that file. Every remote
argument is quoted with shlex (the remote login shell, a POSIX sh, parses one command line), so a path with
spaces or shell metacharacters reaches the program as one argument and never runs anything.

A profile may name the user "$USER": the user running edgekit (for a loopback sshd, which serves
only that user). A command runs under the device's `timeout -s KILL`, a little longer than the
host waits: closing a channel without a pty signals nothing, so without it a timed-out command
would keep running on the device.
"""

from __future__ import annotations

import math
import os
import pwd
import re
import select
import shlex
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Mapping

import paramiko

from edgekit.core.errors import DeviceError, InputFileError, ToolMissingError
from edgekit.core.transport import Capability, RunResult, Transport

_CHUNK_BYTES = 65536
_POLL_S = 0.05
_DRAIN_TIMEOUT_S = 5.0
CURRENT_USER = "$USER"   # profile value meaning "whoever runs edgekit"


def device_deadline_argv(args: list[str], timeout_s: float) -> list[str]:
    """argv wrapped in the device's `timeout` (coreutils, busybox, Android toybox), which kills the
    command (and, with GNU timeout, its process group) once the host has surely given up: whole
    seconds (busybox takes no fractions), at least one second after the host's own deadline."""
    return ["timeout", "-s", "KILL", str(math.ceil(timeout_s) + 1), *args]


def missing_timeout(code: int, stderr: bytes) -> bool:
    """The device's shell could not find `timeout` (sh: "timeout: not found", bash: "command not found")."""
    return code == 127 and re.search(rb"\btimeout: (?:command )?not found", stderr) is not None


@dataclass(frozen=True)
class SshOptions:
    host: str
    user: str
    port: int = 22
    key_file: str = ""                 # empty: use the ssh-agent
    known_hosts: str = "~/.ssh/known_hosts"
    trust_on_first_use: bool = False   # accept and record an unknown host key (never a changed one)
    connect_timeout_s: float = 10.0
    keepalive_s: int = 15

    @staticmethod
    def from_profile(transport: Mapping[str, Any], trust_on_first_use: bool = False) -> "SshOptions":
        user = transport["user"]
        if user == CURRENT_USER:
            user = pwd.getpwuid(os.getuid()).pw_name  # the uid's name, as sshd sees it (not $USER)
        return SshOptions(host=transport["host"], user=user, port=int(transport.get("port", 22)),
                          key_file=transport.get("key_file", ""),
                          known_hosts=transport.get("known_hosts", "~/.ssh/known_hosts"),
                          trust_on_first_use=trust_on_first_use)

    @property
    def where(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    def host_entry(self) -> str:
        """The name known_hosts uses for this host (OpenSSH writes non-default ports as [host]:port)."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"


def _record_policy(known_hosts: Path) -> Any:
    class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
        """Accept an unknown host once and write its key down; a changed key still fails (paramiko
        raises BadHostKeyException before consulting the policy)."""

        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            client.get_host_keys().add(hostname, key.get_name(), key)
            known_hosts.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(known_hosts, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as f:
                f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")

    return _TrustOnFirstUse()


class SshTransport(Transport):
    capabilities = frozenset({Capability.FILES, Capability.EXEC})

    def __init__(self, options: SshOptions) -> None:
        self.options = options
        self._client: Any = None
        self._sftp: Any = None

    # -- connection ----------------------------------------------------------------------------
    def open(self) -> None:
        o = self.options
        known = Path(o.known_hosts).expanduser()
        client = paramiko.SSHClient()
        if known.is_file():
            client.load_host_keys(str(known))
        elif not o.trust_on_first_use:
            raise DeviceError(f"known_hosts file {known} does not exist, so the host key of {o.host_entry()} "
                              "cannot be checked",
                              "add the host's key there (ssh-keyscan), or pass --trust-on-first-use once")
        client.set_missing_host_key_policy(_record_policy(known) if o.trust_on_first_use else paramiko.RejectPolicy())
        auth: dict[str, Any] = {"allow_agent": True, "look_for_keys": False}
        if o.key_file:
            key = Path(o.key_file).expanduser()
            if not key.is_file():
                raise InputFileError(f"SSH key file {key} does not exist",
                                     "fix [transport] key_file in the device profile, or leave it empty to use ssh-agent")
            auth = {"key_filename": str(key), "allow_agent": False, "look_for_keys": False}
        try:
            client.connect(o.host, port=o.port, username=o.user, timeout=o.connect_timeout_s,
                           banner_timeout=o.connect_timeout_s, auth_timeout=o.connect_timeout_s, **auth)
        except paramiko.BadHostKeyException as e:
            client.close()
            raise DeviceError(f"host key of {o.host_entry()} does not match {known} (got {e.key.get_name()} "
                              f"{e.key.get_fingerprint().hex()}): possible man-in-the-middle, connection refused",
                              "if the device was reinstalled, remove its old line from known_hosts") from None
        except paramiko.AuthenticationException:
            client.close()
            raise DeviceError(f"SSH authentication failed for {o.where}",
                              "check [transport] user and key_file, and the device's authorized_keys") from None
        except paramiko.SSHException as e:
            client.close()
            if "not found in known_hosts" in str(e):
                raise DeviceError(f"host {o.host_entry()} is not in {known}: unknown host refused",
                                  "add its key (ssh-keyscan) or pass --trust-on-first-use to record it") from None
            raise DeviceError(f"SSH handshake with {o.where} failed: {e}", "check that an SSH server listens there") from None
        except (OSError, socket.timeout, EOFError) as e:
            client.close()
            raise DeviceError(f"cannot reach {o.where}: {e}",
                              "check that the device is on and sshd listens on that host and port") from None
        client.get_transport().set_keepalive(o.keepalive_s)
        self._client = client

    def close(self) -> None:
        if self._sftp is not None:
            try:
                self._sftp.close()
            except (OSError, EOFError, paramiko.SSHException):  # a dead channel: nothing left to release
                pass
            self._sftp = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _transport(self) -> Any:
        if self._client is None:
            raise DeviceError(f"SSH transport to {self.options.where} is not open", "call open() first")
        t = self._client.get_transport()
        if t is None or not t.is_active():
            raise DeviceError(f"SSH connection to {self.options.where} was lost",
                              "check the device and rerun; finished measurements are kept")
        return t

    def _sftp_client(self) -> Any:
        if self._sftp is None:
            self._transport()
            self._sftp = self._client.open_sftp()
        return self._sftp

    # -- files ---------------------------------------------------------------------------------
    def _mkdirs(self, sftp: Any, remote_dir: PurePosixPath) -> None:
        missing = []
        d = remote_dir
        while str(d) not in ("/", "."):
            try:
                sftp.stat(str(d))
                break
            except FileNotFoundError:
                missing.append(d)
                d = d.parent
        for d in reversed(missing):
            sftp.mkdir(str(d))

    def push(self, local: str, remote: PurePosixPath) -> None:
        """Copy a file up; it appears under its name only when complete (temp name + rename)."""
        if not Path(local).is_file():
            raise InputFileError(f"cannot push {local}: no such file")
        remote = PurePosixPath(remote)
        tmp = remote.with_name(f".{remote.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            sftp = self._sftp_client()
            self._mkdirs(sftp, remote.parent)
            sftp.put(local, str(tmp))
            sftp.posix_rename(str(tmp), str(remote))
        except DeviceError:
            raise
        except (OSError, EOFError, paramiko.SSHException) as e:
            raise self._io_error(f"push {local} -> {remote}", e) from None

    def pull(self, remote: PurePosixPath, local: str) -> None:
        tmp = f"{local}.{uuid.uuid4().hex[:8]}.part"
        try:
            self._sftp_client().get(str(remote), tmp)
            os.replace(tmp, local)
        except DeviceError:
            raise
        except (OSError, EOFError, paramiko.SSHException) as e:
            raise self._io_error(f"pull {remote} -> {local}", e) from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _io_error(self, what: str, e: BaseException) -> DeviceError:
        if isinstance(e, FileNotFoundError):
            return DeviceError(f"{what}: no such file on {self.options.where}", "check the remote path")
        if isinstance(e, PermissionError):
            return DeviceError(f"{what}: permission denied on {self.options.where}", "check [transport] workdir")
        return DeviceError(f"{what} failed over SSH ({type(e).__name__}: {e})",
                           "check the connection and rerun; finished measurements are kept")

    # -- exec ----------------------------------------------------------------------------------
    def run(self, argv: Iterable[str], timeout_s: float, stdin: bytes = b"",
            on_stdout: Callable[[bytes], None] | None = None) -> RunResult:
        args = [str(a) for a in argv]
        command = shlex.join(device_deadline_argv(args, timeout_s))
        transport = self._transport()
        deadline = time.monotonic() + timeout_s
        try:
            chan = transport.open_session(timeout=self.options.connect_timeout_s)
            chan.exec_command(command)
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
            out, err = bytearray(), bytearray()
            while True:
                if self._read_ready(chan, out, err, on_stdout):
                    continue
                if chan.exit_status_ready() and (chan.eof_received or chan.closed):
                    break
                if not transport.is_active() or chan.closed:
                    raise DeviceError(f"SSH connection to {self.options.where} was lost while running {args[0]}",
                                      "check the device and rerun; finished measurements are kept")
                if time.monotonic() > deadline:
                    chan.close()  # the device's `timeout` kills the command shortly
                    raise DeviceError(f"{args[0]} did not finish within {timeout_s:g} s on {self.options.where}",
                                      "raise the timeout or lower --repeats")
                if chan.eof_received:  # select would return at once from now on: wait for the status
                    chan.status_event.wait(_POLL_S)
                else:
                    select.select([chan], [], [], _POLL_S)
            # the last output, the EOF and the exit status may all have arrived after the ready
            # checks above: the EOF closed both buffers, so recv() returns b"" once they are empty
            self._drain(chan, out, err, on_stdout)
            code = chan.recv_exit_status()
            chan.close()
            if code == -1 and not transport.is_active():  # paramiko's "no status": the link died
                raise DeviceError(f"SSH connection to {self.options.where} was lost while running {args[0]}",
                                  "check the device and rerun; finished measurements are kept")
        except DeviceError:
            raise
        except (OSError, EOFError, paramiko.SSHException) as e:
            raise DeviceError(f"running {args[0]} over SSH on {self.options.where} failed "
                              f"({type(e).__name__}: {e})", "check the connection and rerun") from None
        if missing_timeout(code, bytes(err)):
            raise ToolMissingError(f"{self.options.where} has no `timeout` command, which bounds every command edgekit runs",
                                   "install coreutils (or busybox) on the device")
        return RunResult(exit_code=code, stdout=bytes(out), stderr=bytes(err))

    @staticmethod
    def _read_ready(chan: Any, out: bytearray, err: bytearray, on_stdout: Callable[[bytes], None] | None) -> bool:
        progressed = False
        if chan.recv_ready():
            data = chan.recv(_CHUNK_BYTES)
            out += data
            if data and on_stdout is not None:
                on_stdout(data)
            progressed = True
        if chan.recv_stderr_ready():
            err += chan.recv_stderr(_CHUNK_BYTES)
            progressed = True
        return progressed

    @staticmethod
    def _drain(chan: Any, out: bytearray, err: bytearray, on_stdout: Callable[[bytes], None] | None) -> None:
        chan.settimeout(_DRAIN_TIMEOUT_S)  # never block for long should a buffer still be open
        while data := chan.recv(_CHUNK_BYTES):
            out += data
            if on_stdout is not None:
                on_stdout(data)
        while data := chan.recv_stderr(_CHUNK_BYTES):
            err += data
