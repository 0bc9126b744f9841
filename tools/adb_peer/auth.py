"""ADB authentication on the device side (AOSP protocol.txt, "AUTH"), as adbd does it.

The device answers the host's CNXN with AUTH(TOKEN, 20 random bytes). The host signs the token
with its private key and sends AUTH(SIGNATURE): RSA PKCS#1 v1.5 where the token stands in for a
SHA-1 digest (OpenSSL's RSA_sign(NID_sha1, token)), so it is verified as a prehashed SHA-1. A
signature by a key in the allowed list authorizes the connection; otherwise the device sends a
new token and the host tries its next key. When the host has no more keys it sends
AUTH(RSAPUBLICKEY) — a phone would ask its user; this peer accepts it only when that key is
already allowed.

Public keys are in ADB's format (adbkey.pub, adbd's adb_keys): base64 of a little-endian struct
{u32 words; u32 n0inv; u32 modulus[words]; u32 rr[words]; u32 exponent}, then a comment.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3
TOKEN_BYTES = 20  # a SHA-1 digest's size: the host signs it as one


@dataclass(frozen=True)
class AdbPublicKey:
    modulus: int
    exponent: int
    comment: str = ""

    @staticmethod
    def parse(text: str) -> "AdbPublicKey":
        """One adbkey.pub line ("BASE64 user@host"); ValueError when it is not an ADB RSA key."""
        blob_b64, _, comment = text.strip().rstrip("\0").partition(" ")
        try:
            blob = base64.b64decode(blob_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not base64") from None
        if len(blob) < 8:
            raise ValueError("too short for an ADB public key")
        words = struct.unpack_from("<I", blob)[0]
        if len(blob) != 4 * (3 + 2 * words):
            raise ValueError(f"{len(blob)} bytes do not hold a {words}-word ADB RSA key")
        n = int.from_bytes(blob[8:8 + 4 * words], "little")
        e = struct.unpack_from("<I", blob, 8 + 8 * words)[0]
        return AdbPublicKey(n, e, comment.strip())

    def verifies(self, token: bytes, signature: bytes) -> bool:
        key = rsa.RSAPublicNumbers(self.exponent, self.modulus).public_key()
        try:
            key.verify(signature, token, padding.PKCS1v15(), Prehashed(hashes.SHA1()))
        except InvalidSignature:
            return False
        return True


def load_keys(path: Path) -> tuple[AdbPublicKey, ...]:
    """Allowed keys, one per line (blank lines and # comments skipped); a bad line is an error."""
    keys = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            keys.append(AdbPublicKey.parse(line))
        except ValueError as e:
            raise ValueError(f"{path}:{i}: {e}") from None
    if not keys:
        raise ValueError(f"{path} holds no ADB public key")
    return tuple(keys)


class Authenticator:
    """The AUTH state of one connection."""

    MAX_SIGNATURES = 16  # host keys tried before the connection is dropped

    def __init__(self, allowed: tuple[AdbPublicKey, ...], random_bytes) -> None:
        self.allowed = allowed
        self._random = random_bytes
        self.token: bytes | None = None
        self.attempts = 0

    def new_token(self) -> bytes:
        self.token = self._random(TOKEN_BYTES)
        return self.token

    def signature_ok(self, signature: bytes) -> bool:
        self.attempts += 1
        token, self.token = self.token, None  # a token is good for one signature
        return token is not None and any(k.verifies(token, signature) for k in self.allowed)

    def public_key_allowed(self, payload: bytes) -> bool:
        try:
            key = AdbPublicKey.parse(payload.decode("ascii", errors="replace"))
        except ValueError:
            return False
        return any((k.modulus, k.exponent) == (key.modulus, key.exponent) for k in self.allowed)
