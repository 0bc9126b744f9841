"""Options of a profiling run, declared once; the CLI and the resume key derive from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from edgekit.core.errors import UsageError


@dataclass(frozen=True)
class ProfileOptions:
    repeats: int = 100          # timed inferences per session
    warmup: int = 10            # untimed inferences before them
    min_seconds: float = 0.0    # then more timed inferences until the window lasts this long
    threads: int = 1
    xnnpack: bool = True        # LiteRT's default CPU delegate on / off
    sessions: int = 1           # repeated sessions (run sets) of the same configuration
    seed: int = 0               # input data seed
    cpu: int | None = None      # pin the runner to this CPU (None: let the OS place it)
    timeout_s: float = 900.0    # per session, on the host

    def __post_init__(self) -> None:
        for name, low in (("repeats", 1), ("warmup", 0), ("threads", 1), ("sessions", 1)):
            if getattr(self, name) < low:
                raise UsageError(f"--{name} must be at least {low}", f"pass --{name} {max(low, 1)} or more")
        if self.min_seconds < 0:
            raise UsageError("--min-seconds must not be negative")
        if self.timeout_s <= 0:
            raise UsageError("the timeout must be positive")

    def identity(self) -> dict[str, Any]:
        """What makes two measurements comparable (goes into the resume key); sessions and the
        host-side timeout do not change a measurement."""
        d = asdict(self)
        d.pop("sessions")
        d.pop("timeout_s")
        return d
