"""The Transport interface: moves bytes and files, runs commands. Knows nothing of models.

A serial link offers BYTES (a byte stream; framing lives one layer up, in the protocol); SSH and ADB
offer FILES and EXEC. Optional abilities are a Capability set, not hasattr checks; calling a method a
transport lacks raises UnsupportedCapability.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Callable, Iterable

from edgekit.core.errors import DeviceError


class Capability(enum.Enum):
    BYTES = "bytes"      # write()/read(): a raw byte stream (serial)
    FILES = "files"      # push()/pull(): copy files to and from the device
    EXEC = "exec"        # run(): run a program, get its exit code and output


class UnsupportedCapability(DeviceError):
    default_hint = "this transport cannot do that; check the device profile's [transport] kind"


@dataclass(frozen=True)
class RunResult:
    exit_code: int       # from the channel / protocol, never scraped from output
    stdout: bytes
    stderr: bytes

    def check(self, what: str) -> "RunResult":
        if self.exit_code != 0:
            tail = self.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise DeviceError(f"{what} failed on the device with exit code {self.exit_code}: {tail[0]}",
                              "run it by hand on the device to see the full output")
        return self


class Transport(ABC):
    capabilities: frozenset[Capability] = frozenset()

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Transport":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _unsupported(self, cap: Capability) -> UnsupportedCapability:
        return UnsupportedCapability(f"{type(self).__name__} has no {cap.value} capability")

    # BYTES
    def write(self, data: bytes) -> None:
        raise self._unsupported(Capability.BYTES)

    def read(self, n: int, timeout_s: float) -> bytes:
        """Up to n bytes; fewer (maybe none) when timeout_s passes first."""
        raise self._unsupported(Capability.BYTES)

    def reset_input(self) -> None:
        raise self._unsupported(Capability.BYTES)

    # FILES
    def push(self, local: str, remote: PurePosixPath) -> None:
        raise self._unsupported(Capability.FILES)

    def pull(self, remote: PurePosixPath, local: str) -> None:
        raise self._unsupported(Capability.FILES)

    # EXEC
    def run(self, argv: Iterable[str], timeout_s: float, stdin: bytes = b"",
            on_stdout: Callable[[bytes], None] | None = None) -> RunResult:
        """Run argv on the device (each argument quoted: no shell injection); stream stdout if asked."""
        raise self._unsupported(Capability.EXEC)
