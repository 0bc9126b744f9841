"""Shared by the integration folders: a real OpenSSH sshd on 127.0.0.1 (its own host key,
authorized key and free port; scripts/sshd_local.py), started once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from _support import REPO, load_module

sshd_local = load_module("sshd_local", REPO / "scripts" / "sshd_local.py")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):  # noqa: ANN001, ANN201
    if not Path(sshd_local.SSHD).exists():
        pytest.skip("openssh-server is not installed (/usr/sbin/sshd missing)")
    handle = sshd_local.start_sshd(tmp_path_factory.mktemp("sshd"))
    yield handle
    handle.stop()
