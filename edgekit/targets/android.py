"""Android devices over ADB: the same runner as Linux (given a Python on the phone, e.g. Termux's),
or TensorFlow Lite's `benchmark_model` binary when the user supplies one."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import ClassVar

from edgekit.core.artifact import sha256_file
from edgekit.core.errors import InputFileError
from edgekit.core.profile import DeviceProfile
from edgekit.targets.linux import PosixTarget


class AndroidTarget(PosixTarget):
    kind: ClassVar[str] = "android"
    default_workdir: ClassVar[str] = "/data/local/tmp/edgekit"

    @classmethod
    def from_profile(cls, profile: DeviceProfile, python: str | None = None) -> "AndroidTarget":
        from edgekit.transports.adb import AdbTransport

        return cls(profile, AdbTransport(profile.transport.get("serial", "")), python)

    def deploy_binary(self, local: Path) -> PurePosixPath:
        """Push an executable (e.g. benchmark_model) and make it executable on the phone."""
        if not local.is_file():
            raise InputFileError(f"binary {local} does not exist", "give the path of an arm64 benchmark_model build")
        remote = self.deploy_file(local, sha256_file(local), subdir="bin")
        self.run(["chmod", "755", str(remote)], timeout_s=30).check(f"chmod {remote}")
        return remote
