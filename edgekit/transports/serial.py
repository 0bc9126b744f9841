"""Serial transport (pyserial): a raw byte stream to a board's UART, or to QEMU's serial socket.

Framing, checksums and retries live one layer up (edgekit.measure.mcu_protocol); this only moves
bytes. A URL (``socket://127.0.0.1:PORT``, ``/dev/ttyACM0``, ``rfc2217://…``) or a glob of device
paths (``/dev/serial/by-id/usb-STMicro*``, which must match exactly one port) names the link.
"""

from __future__ import annotations

import glob
import time
from dataclasses import dataclass
from typing import Any

from edgekit.core.errors import DeviceError, ProfileError
from edgekit.core.profile import DeviceProfile
from edgekit.core.transport import Capability, Transport


@dataclass(frozen=True)
class SerialOptions:
    url: str                        # pyserial URL or device path
    baudrate: int = 115200
    connect_timeout_s: float = 10.0  # keep retrying the open for this long (QEMU may still be starting)
    write_timeout_s: float = 10.0


def resolve_port(port_glob: str) -> str:
    """The one serial device matching ``port_glob``; DeviceError when none or several match."""
    matches = sorted(glob.glob(port_glob))
    if not matches:
        raise DeviceError(f"no serial port matches {port_glob!r}",
                          "plug the board in (its USB debug port), or set [transport].port_glob in its profile")
    if len(matches) > 1:
        raise DeviceError(f"{len(matches)} serial ports match {port_glob!r}: {', '.join(matches)}",
                          "narrow [transport].port_glob in the device profile to one board")
    return matches[0]


def options_for_profile(profile: DeviceProfile, port: int | None = None) -> SerialOptions:
    """Serial options from a device profile; ``port`` fills ``{port}`` in an emulator's URL."""
    t = profile.transport
    baud = int(t.get("baudrate", 115200))
    if "url" in t:
        url = str(t["url"])
        if "{port}" in url:
            if port is None:
                raise ProfileError(f"{profile.path}: [transport] url {url!r} needs a port number",
                                   "the flasher (QEMU) provides it when it starts the board")
            url = url.replace("{port}", str(port))
        return SerialOptions(url=url, baudrate=baud)
    if "port_glob" in t:
        return SerialOptions(url=resolve_port(str(t["port_glob"])), baudrate=baud)
    raise ProfileError(f"{profile.path}: [transport] has neither 'url' nor 'port_glob'",
                       "add the board's serial port as port_glob (e.g. /dev/serial/by-id/usb-…*)")


class SerialTransport(Transport):
    capabilities = frozenset({Capability.BYTES})

    def __init__(self, options: SerialOptions) -> None:
        self.options = options
        self._port: Any = None

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        if self._port is not None:
            return
        import serial  # pyserial; imported here so that importing edgekit stays light

        deadline = time.monotonic() + self.options.connect_timeout_s
        while True:
            try:
                port = serial.serial_for_url(self.options.url, baudrate=self.options.baudrate, timeout=0,
                                             write_timeout=self.options.write_timeout_s, do_not_open=True)
                # pyserial's open() ends by discarding every byte already received. A board (or
                # QEMU with wait=on, which starts the CPU the moment we connect) may have sent its
                # BOOT frame by then; on a loaded host that frame was lost and the session failed
                # with "no BOOT frame". Stale bytes are harmless: frames carry a CRC and a sequence.
                port.reset_input_buffer = lambda: None
                port.open()
                del port.reset_input_buffer
                self._port = port
                return
            except (serial.SerialException, OSError, ValueError) as e:
                if time.monotonic() >= deadline:
                    raise DeviceError(f"cannot open serial link {self.options.url}: {e}",
                                      "check the port (is another program using it?) and the board's power") from None
                time.sleep(0.05)

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except OSError:
                pass  # already gone (the emulator exited): nothing left to release

    def _require(self) -> Any:
        if self._port is None:
            raise DeviceError("the serial link is not open", "open the transport before using it")
        return self._port

    def write(self, data: bytes) -> None:
        port = self._require()
        import serial

        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as e:
            raise DeviceError(f"serial write to {self.options.url} failed: {e}",
                              "the board (or QEMU) closed the link; check that it is still running") from None

    def read(self, n: int, timeout_s: float) -> bytes:
        """Up to ``n`` bytes; returns early with what has arrived once at least one byte is there."""
        port = self._require()
        import serial

        deadline = time.monotonic() + max(0.0, timeout_s)
        try:
            while True:
                port.timeout = 0            # non-blocking: whatever has arrived, up to n
                data = port.read(n)
                if data:
                    return bytes(data)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return b""
                port.timeout = min(remaining, 0.05)   # block briefly for the first byte
                first = port.read(1)
                if first:
                    port.timeout = 0
                    return bytes(first) + (bytes(port.read(n - 1)) if n > 1 else b"")
        except (serial.SerialException, OSError) as e:
            raise DeviceError(f"serial read from {self.options.url} failed: {e}",
                              "the board (or QEMU) closed the link; check that it is still running") from None

    def reset_input(self) -> None:
        self._require().reset_input_buffer()
