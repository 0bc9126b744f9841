"""Static input shapes: int8 TFLite for a microcontroller has no dynamic dimensions.

A dynamic batch becomes 1 (edgekit converts for one inference at a time); any other unknown
dimension must come from --input-shape, in the source model's own layout.
"""

from __future__ import annotations

from edgekit.core.errors import ConversionError, UsageError


def resolve_shape(name: str, dims: list[int | None], given: tuple[int, ...] | None) -> tuple[int, ...]:
    """Static shape of one input: the given --input-shape, else the model's with batch fixed to 1."""
    shown = "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"
    if given is not None:
        if len(given) != len(dims) or any(d is not None and i > 0 and d != g for i, (d, g) in enumerate(zip(dims, given))):
            raise UsageError(f"--input-shape {','.join(map(str, given))} does not fit input '{name}' {shown}",
                             "give the model's own layout with batch first, keeping its fixed dimensions")
        return given
    fixed = [1 if i == 0 and d is None else d for i, d in enumerate(dims)]
    if fixed and fixed[0] != 1:
        raise ConversionError(f"input '{name}' has a fixed batch of {fixed[0]} {shown}; edgekit converts for batch 1",
                              "export the model with batch 1 (or a dynamic batch)")
    if None in fixed:
        axes = ", ".join(str(i) for i, d in enumerate(fixed) if d is None)
        raise ConversionError(
            f"input '{name}' has a dynamic shape {shown} (dimension {axes} unknown); int8 TFLite needs static shapes",
            "pass --input-shape with every dimension, e.g. --input-shape "
            + ",".join("1" if i == 0 else str(d or "N") for i, d in enumerate(fixed)))
    return tuple(int(d) for d in fixed)
