"""Damaged .tflite files must fail with a typed error, quickly, and never crash or hang the reader."""

from __future__ import annotations

import random
import signal
import struct
import time
from collections import Counter

import pytest

from _support import asset
from edgekit.core.errors import InputFileError, UnsupportedModelError
from edgekit.tflite.reader import read_tflite_bytes
from edgekit.tflite.stats import model_stats

SEEDS = ("models/tflm_examples/hello_world_int8.tflite",
         "models/tflm_examples/micro_speech_quantized.tflite")
VARIANTS_PER_MODEL = 1200
PER_READ_LIMIT_S = 2.0
EDGE_WORDS = (0, 1, 4, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFF, 0x10000)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def _mutate(rng: random.Random, data: bytes, donor: bytes) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:  # bit flips
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # random bytes
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 2:  # truncation
        del b[rng.randrange(len(b)):]
    elif kind == 3:  # splice a run of bytes from the other model
        at, src, n = rng.randrange(len(b)), rng.randrange(len(donor)), rng.randint(1, 64)
        b[at:at + n] = donor[src:src + n]
    elif kind == 4:  # an aligned word (offsets, lengths, vtable entries) set to an edge value
        at = rng.randrange(8, len(b) - 4) & ~3
        b[at:at + 4] = struct.pack("<I", rng.choice(EDGE_WORDS))
    else:  # an aligned word nudged, so offsets point just beside their target
        at = rng.randrange(8, len(b) - 4) & ~3
        (word,) = struct.unpack_from("<I", b, at)
        b[at:at + 4] = struct.pack("<I", (word + rng.choice((-8, -4, -2, -1, 1, 2, 4, 8))) & 0xFFFFFFFF)
    return bytes(b)


def _read_guarded(data: bytes) -> str:
    """Read (and summarise) one variant; returns the outcome name, raises on anything untyped."""
    signal.setitimer(signal.ITIMER_REAL, PER_READ_LIMIT_S)
    try:
        model_stats(read_tflite_bytes(data, "variant"))
        return "read"
    except (InputFileError, UnsupportedModelError) as e:
        assert e.message and "\n" not in e.message
        return type(e).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@pytest.fixture
def alarm():
    previous = signal.signal(signal.SIGALRM, _alarm)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_mutated_models_fail_cleanly(alarm):
    models = [asset(rel).read_bytes() for rel in SEEDS]
    rng = random.Random(20240611)
    outcomes: Counter[str] = Counter()
    slowest = 0.0
    start = time.perf_counter()
    for k, data in enumerate(models):
        donor = models[1 - k]
        for i in range(VARIANTS_PER_MODEL):
            variant = _mutate(rng, data, donor)
            t0 = time.perf_counter()
            try:
                outcomes[_read_guarded(variant)] += 1
            except _Timeout:
                pytest.fail(f"reading variant {i} of {SEEDS[k]} took over {PER_READ_LIMIT_S} s")
            slowest = max(slowest, time.perf_counter() - t0)
    assert sum(outcomes.values()) == 2 * VARIANTS_PER_MODEL
    # Both outcomes must really occur, or the mutations are too weak (or too strong) to test much.
    assert outcomes["InputFileError"] > 500 and outcomes["read"] > 100, outcomes
    assert slowest < 0.5, f"slowest read {slowest:.3f} s"
    assert time.perf_counter() - start < 30


def test_arbitrary_bytes_behind_a_valid_header(alarm):
    """Random bytes after a plausible root offset and the TFL3 identifier fail with a typed error."""
    rng = random.Random(7)
    outcomes: Counter[str] = Counter()
    for _ in range(300):
        body = rng.randbytes(rng.randrange(600))
        data = struct.pack("<I", 8 + (len(body) // 2 & ~3)) + b"TFL3" + body
        try:
            outcomes[_read_guarded(data)] += 1
        except _Timeout:
            pytest.fail(f"reading {len(data)} random bytes took over {PER_READ_LIMIT_S} s")
    assert outcomes["InputFileError"] >= 290, outcomes
