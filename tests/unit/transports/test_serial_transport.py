"""Serial transport over pyserial's socket:// URL (what QEMU's serial socket looks like)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from edgekit.core.errors import DeviceError, ProfileError
from edgekit.core.profile import load_profile
from edgekit.core.transport import Capability
from edgekit.transports.serial import SerialOptions, SerialTransport, options_for_profile, resolve_port


@pytest.fixture
def echo_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                conn.sendall(data[::-1])

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield port
    srv.close()


def test_bytes_round_trip_and_timeout(echo_server):
    t = SerialTransport(SerialOptions(url=f"socket://127.0.0.1:{echo_server}"))
    assert Capability.BYTES in t.capabilities
    with t:
        t.write(b"abc")
        got = b""
        deadline = time.monotonic() + 2
        while len(got) < 3 and time.monotonic() < deadline:
            got += t.read(10, 0.5)
        assert got == b"cba"
        start = time.monotonic()
        assert t.read(10, 0.2) == b""
        assert 0.15 < time.monotonic() - start < 1.0
    assert not t.is_open


def test_open_fails_clearly_when_nothing_listens():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    t = SerialTransport(SerialOptions(url=f"socket://127.0.0.1:{port}", connect_timeout_s=0.3))
    with pytest.raises(DeviceError, match="cannot open serial link"):
        t.open()
    with pytest.raises(DeviceError, match="not open"):
        t.write(b"x")


def test_port_glob_must_match_exactly_one(tmp_path):
    with pytest.raises(DeviceError, match="no serial port matches"):
        resolve_port(str(tmp_path / "ttyACM*"))
    (tmp_path / "ttyACM0").touch()
    assert resolve_port(str(tmp_path / "ttyACM*")) == str(tmp_path / "ttyACM0")
    (tmp_path / "ttyACM1").touch()
    with pytest.raises(DeviceError, match="2 serial ports match"):
        resolve_port(str(tmp_path / "ttyACM*"))


def test_options_from_profiles():
    m4 = load_profile("qemu-m4")
    assert options_for_profile(m4, 4321).url == "socket://127.0.0.1:4321"
    with pytest.raises(ProfileError, match="needs a port number"):
        options_for_profile(m4)
    with pytest.raises(DeviceError, match="no serial port matches"):
        options_for_profile(load_profile("nucleo-l4r5zi"))


def test_bytes_sent_at_connect_are_not_discarded(monkeypatch):
    """QEMU with wait=on starts the board the moment we connect, and the board's first words (its
    BOOT frame) may arrive before open() returns. pyserial's open() discards what has arrived;
    edgekit must not (on a loaded CI host this lost the BOOT frame)."""
    import serial.urlhandler.protocol_socket as ps

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def board():
        conn, _ = srv.accept()
        conn.sendall(b"BOOT!")
        time.sleep(1.0)
        conn.close()

    threading.Thread(target=board, daemon=True).start()
    real_connect = ps.socket.create_connection

    def slow_connect(*a, **kw):          # the host is descheduled right after connecting
        s = real_connect(*a, **kw)
        time.sleep(0.3)
        return s

    monkeypatch.setattr(ps.socket, "create_connection", slow_connect)
    t = SerialTransport(SerialOptions(url=f"socket://127.0.0.1:{srv.getsockname()[1]}"))
    t.open()
    try:
        assert t.read(5, 2.0) == b"BOOT!"
    finally:
        t.close()
        srv.close()
