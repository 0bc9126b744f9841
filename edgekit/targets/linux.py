"""Linux boards over SSH: put the on-device runner and models in the work directory, run them there.

A `PosixTarget` is any device reached by a transport with FILES and EXEC (SSH for Linux, ADB for
Android): it has a work directory and a Python. Files are pushed once per session (keyed by their
sha256) and keep their own file name on the device, so every argument naming them is quoted by the
transport, never trusted to be "simple".
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Callable, ClassVar

from edgekit.core.artifact import sha256_file
from edgekit.core.errors import ToolMissingError
from edgekit.core.profile import DeviceProfile
from edgekit.core.transport import RunResult, Transport

RUNNER_SOURCE = Path(__file__).resolve().parents[2] / "tools" / "edgekit_runner.py"
_VERSION_LINE = re.compile(r'^RUNNER_VERSION = "([^"]+)"$', re.M)


def runner_source() -> Path:
    if not RUNNER_SOURCE.is_file():
        raise ToolMissingError(f"the on-device runner {RUNNER_SOURCE} is missing",
                               "run edgekit from a full checkout (tools/ beside edgekit/)")
    return RUNNER_SOURCE


def local_runner_version(path: Path | None = None) -> str:
    text = (path or runner_source()).read_text(encoding="utf-8")
    m = _VERSION_LINE.search(text)
    if m is None:
        raise ToolMissingError(f"{path or RUNNER_SOURCE} declares no RUNNER_VERSION", "restore tools/edgekit_runner.py")
    return m.group(1)


class PosixTarget:
    kind: ClassVar[str] = "linux"
    default_workdir: ClassVar[str] = "/tmp/edgekit-device"

    def __init__(self, profile: DeviceProfile, transport: Transport, python: str | None = None) -> None:
        self.profile = profile
        self.transport = transport
        self.python = python or profile.transport.get("python", "python3")
        self.workdir = PurePosixPath(profile.transport.get("workdir", self.default_workdir))
        self._opened = False
        self._pushed: dict[str, PurePosixPath] = {}

    # -- session -------------------------------------------------------------------------------
    def open(self) -> None:
        if not self._opened:
            self.transport.open()
            self._opened = True

    def close(self) -> None:
        if self._opened:
            self._opened = False
            self._pushed.clear()
            self.transport.close()

    def __enter__(self) -> "PosixTarget":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- files ---------------------------------------------------------------------------------
    def deploy_runner(self) -> PurePosixPath:
        src = runner_source()
        remote = self.workdir / f"edgekit_runner-v{local_runner_version(src)}.py"
        return self._push_once(src, remote)

    def deploy_file(self, local: Path, sha256: str | None = None, subdir: str = "models") -> PurePosixPath:
        """Push a file to workdir/subdir/<sha256 prefix>/<its own name>; once per session."""
        sha = sha256 or sha256_file(local)
        return self._push_once(local, self.workdir / subdir / sha[:16] / local.name, sha)

    def _push_once(self, local: Path, remote: PurePosixPath, sha: str | None = None) -> PurePosixPath:
        key = f"{sha or sha256_file(local)}:{remote}"
        if key not in self._pushed:
            self.open()
            self.transport.push(str(local), remote)
            self._pushed[key] = remote
        return self._pushed[key]

    # -- exec ----------------------------------------------------------------------------------
    def python_argv(self, script: PurePosixPath, args: list[str]) -> list[str]:
        return [self.python, str(script), *args]

    def run(self, argv: list[str], timeout_s: float, on_stdout: Callable[[bytes], None] | None = None) -> RunResult:
        self.open()
        return self.transport.run(argv, timeout_s=timeout_s, on_stdout=on_stdout)


class LinuxTarget(PosixTarget):
    kind: ClassVar[str] = "linux"

    @classmethod
    def from_profile(cls, profile: DeviceProfile, trust_on_first_use: bool = False,
                     python: str | None = None) -> "LinuxTarget":
        from edgekit.transports.ssh import SshOptions, SshTransport

        return cls(profile, SshTransport(SshOptions.from_profile(profile.transport, trust_on_first_use)), python)
