"""ADB transport messages (AOSP system/core/adb/protocol.txt): a 24-byte header + payload.

header = command, arg0, arg1, data_length, data_check, magic (six little-endian uint32);
magic = command ^ 0xffffffff; data_check = sum of the payload bytes (ignored from version
0x01000001 on, still sent here for older clients).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass


def _cmd(name: bytes) -> int:
    return struct.unpack("<I", name)[0]


A_CNXN, A_OPEN, A_OKAY = _cmd(b"CNXN"), _cmd(b"OPEN"), _cmd(b"OKAY")
A_WRTE, A_CLSE, A_AUTH = _cmd(b"WRTE"), _cmd(b"CLSE"), _cmd(b"AUTH")
A_VERSION = 0x01000001          # "skip checksum" version
MAX_PAYLOAD = 256 * 1024
_HEADER = struct.Struct("<6I")
NAMES = {A_CNXN: "CNXN", A_OPEN: "OPEN", A_OKAY: "OKAY", A_WRTE: "WRTE", A_CLSE: "CLSE", A_AUTH: "AUTH"}


@dataclass(frozen=True)
class Message:
    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    @property
    def name(self) -> str:
        return NAMES.get(self.command, f"0x{self.command:08x}")

    def pack(self) -> bytes:
        check = sum(self.data) & 0xFFFFFFFF
        return _HEADER.pack(self.command, self.arg0, self.arg1, len(self.data), check,
                            self.command ^ 0xFFFFFFFF) + self.data


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        buf += chunk
    return bytes(buf)


def read_message(sock: socket.socket) -> Message:
    command, arg0, arg1, length, _check, magic = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if magic != command ^ 0xFFFFFFFF:
        raise ConnectionError(f"bad message magic for command 0x{command:08x}")
    if length > 16 * 1024 * 1024:
        raise ConnectionError(f"message payload of {length} bytes is absurd")
    return Message(command, arg0, arg1, _recv_exact(sock, length) if length else b"")
