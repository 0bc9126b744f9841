"""edgekit's own version, as recorded in every trace row's tool versions."""

from __future__ import annotations

from importlib import metadata


def edgekit_version() -> str:
    try:
        return metadata.version("edgekit")
    except metadata.PackageNotFoundError:
        return "unknown"
