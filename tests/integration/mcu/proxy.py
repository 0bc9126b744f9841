"""A TCP proxy between the host and QEMU's serial socket that drops, flips and delays bytes, and
can pause or reset the emulated board when it sees a given request go by."""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Sequence

from edgekit.core.profile import DeviceProfile
from edgekit.flashers.base import BoardSession, Flasher, Preload
from edgekit.flashers.qemu import QemuFlasher, QemuOptions, QemuSession
from edgekit.measure import mcu_frames as fr
from edgekit.transports.serial import SerialOptions


@dataclass
class Faults:
    drop: float = 0.0            # probability per byte
    flip: float = 0.0            # probability per byte (one random bit)
    delay: float = 0.0           # probability per chunk of a 5-30 ms stall
    seed: int = 0
    skip_first_bytes: int = 0    # pass this many bytes (each way) untouched first
    mute_replies: bool = False   # drop every byte from the device from now on (set by a hook)
    force_after_bytes: int = 256  # nothing injected by this byte (either way): inject here, so that
                                  # a fault-free run never passes for a survived one
    injected: dict[str, int] = field(default_factory=lambda: {"drop": 0, "flip": 0, "delay": 0})


class FaultProxy:
    def __init__(self, target_port: int, faults: Faults,
                 on_request: Callable[[fr.Frame], None] | None = None) -> None:
        self.target_port, self.faults, self.on_request = target_port, faults, on_request
        self.rng = random.Random(faults.seed)
        self.lock = threading.Lock()
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.parser = fr.FrameParser()
        self.socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            client, _ = self.srv.accept()
        except OSError:
            return
        target = socket.create_connection(("127.0.0.1", self.target_port))
        for s in (client, target):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socks = [client, target]
        threading.Thread(target=self._pump, args=(client, target, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(target, client, False), daemon=True).start()

    def _damage(self, data: bytes, passed: int) -> bytes:
        f, out = self.faults, bytearray()
        with self.lock:
            for k, b in enumerate(data):
                if passed + k < f.skip_first_bytes:
                    out.append(b)
                    continue
                r = self.rng.random()
                if passed + k >= f.force_after_bytes and not any(f.injected.values()):
                    r = 0.0 if f.drop else f.drop + f.flip / 2   # no luck so far: this byte is hit
                if r < f.drop:
                    f.injected["drop"] += 1
                elif r < f.drop + f.flip:
                    f.injected["flip"] += 1
                    out.append(b ^ (1 << self.rng.randrange(8)))
                else:
                    out.append(b)
            stall = self.rng.random() < f.delay or (f.delay > 0 and not any(f.injected.values())
                                                     and passed + len(data) >= f.force_after_bytes)
            if stall:
                f.injected["delay"] += 1
        if stall:
            time.sleep(self.rng.uniform(0.005, 0.03))
        return bytes(out)

    def _pump(self, src: socket.socket, dst: socket.socket, to_device: bool) -> None:
        passed = 0
        try:
            while True:
                data = src.recv(4096)
                if not data:
                    break
                if to_device and self.on_request is not None:
                    for frame in self.parser.feed(data):
                        self.on_request(frame)
                if not to_device and self.faults.mute_replies:
                    continue
                out = self._damage(data, passed)
                passed += len(data)
                if out:
                    dst.sendall(out)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.srv.close()
        for s in self.socks:
            s.close()


class ProxiedSession(BoardSession):
    boot_announced: ClassVar[bool] = True
    has_exit_code: ClassVar[bool] = True

    def __init__(self, inner: QemuSession, proxy: FaultProxy) -> None:
        self.inner, self.proxy = inner, proxy

    def serial_options(self) -> SerialOptions:
        return SerialOptions(url=f"socket://127.0.0.1:{self.proxy.port}")

    def exit_code(self, timeout_s: float = 0.0) -> int | None:
        return self.inner.exit_code(timeout_s)

    def stop(self) -> None:
        self.proxy.close()
        self.inner.stop()


class ProxiedQemu(Flasher):
    """QEMU behind a FaultProxy; ``on_request(frame, session)`` sees every intact host request."""

    method = "qemu"
    supports_preload = True

    def __init__(self, profile: DeviceProfile, faults: Faults,
                 on_request: Callable[[fr.Frame, QemuSession], None] | None = None) -> None:
        super().__init__(profile)
        self.faults, self.on_request = faults, on_request
        self.sessions: list[ProxiedSession] = []

    def start(self, image: Path, preloads: Sequence[Preload] = ()) -> BoardSession:
        inner = QemuFlasher(self.profile, QemuOptions(qmp=self.on_request is not None)).start(image, preloads)
        hook = None if self.on_request is None else (lambda f: self.on_request(f, inner))
        session = ProxiedSession(inner, FaultProxy(inner.port, self.faults, hook))
        self.sessions.append(session)
        return session
