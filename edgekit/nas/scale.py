"""Spreading candidate training and conversion over an existing engine (Ray), never a home-made one.

``LocalExecutor`` runs jobs one after another in this process (the default). ``RayExecutor``
submits each job as a Ray task, on this machine (``ray.init()``) or on a cluster
(``--ray-address``). Ray is the optional extra ``edgekit[scale]``; it is imported only when asked
for. Results are returned in job order and each job is a pure function of its inputs, so the
result of a search does not depend on where or in which order its jobs ran. Device measurements
stay in the driver: one board is one serial link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from edgekit.core.errors import DeviceError, ToolMissingError

T = TypeVar("T")
R = TypeVar("R")

RAY_HINT = "pip install 'edgekit[scale]' (ray 2.60.0), or drop --ray / --ray-address"


class Executor(Protocol):
    name: str

    def map(self, fn: Callable[[T], R], jobs: Sequence[T]) -> list[R]: ...
    def close(self) -> None: ...


class LocalExecutor:
    name = "local"

    def map(self, fn: Callable[[T], R], jobs: Sequence[T]) -> list[R]:
        return [fn(job) for job in jobs]

    def close(self) -> None:
        pass


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None) -> None:
        try:
            import ray
        except ModuleNotFoundError:
            raise ToolMissingError("Ray is not installed", RAY_HINT) from None
        self._ray = ray
        self._started = not ray.is_initialized()   # a local cluster this executor brought up
        if self._started:
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except ConnectionError as e:
                raise DeviceError(f"cannot reach the Ray cluster at {address}: {e}",
                                  "check --ray-address (ray://HOST:10001 or HOST:6379) and that the head node runs") from None
        self.address = address

    def map(self, fn: Callable[[T], R], jobs: Sequence[T]) -> list[R]:
        remote = self._ray.remote(num_cpus=1)(fn)
        return list(self._ray.get([remote.remote(job) for job in jobs]))

    def close(self) -> None:
        """Disconnect; a cluster this executor started itself (no --ray-address) is stopped."""
        if self._started:
            self._ray.shutdown()
            self._started = False


def make_executor(use_ray: bool, address: str | None) -> Executor:
    if use_ray or address:
        return RayExecutor(address)
    return LocalExecutor()


def describe(executor: Any) -> str:
    return executor.name if getattr(executor, "address", None) is None else f"ray at {executor.address}"
