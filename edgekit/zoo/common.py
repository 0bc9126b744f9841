"""Architecture facts shared by the torch and Keras builders (no framework imports here)."""

from __future__ import annotations

# MobileNetV1 body: (pointwise filters at alpha = 1, depthwise stride), after a 32-filter stem.
MOBILENET_V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def mobilenet_channels(alpha: float) -> tuple[int, ...]:
    """Output channels of the stem and of each depthwise-separable block for width ``alpha``."""
    return tuple(max(1, int(c * alpha)) for c in (32,) + tuple(f for f, _ in MOBILENET_V1_BLOCKS))


def har_pooled_length(window_len: int) -> int:
    """Time steps left after the HAR CNN's two 2x max-poolings (floor, as both frameworks do)."""
    return window_len // 2 // 2
