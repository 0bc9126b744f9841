"""Typed errors. Each carries a one-line message (what is wrong) and a hint (what to do).

The CLI prints ``error: <message> (hint: <hint>)`` on one stderr line and exits with ``exit_code``;
nothing else in edgekit prints errors or calls ``sys.exit``.
"""

from __future__ import annotations


class EdgekitError(Exception):
    """Base of every error edgekit raises on purpose."""

    exit_code = 1
    default_hint = "run with --debug for the full traceback"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message.strip().replace("\n", " ")
        self.hint = (hint or self.default_hint).strip().replace("\n", " ")

    def one_line(self) -> str:
        return f"error: {self.message} (hint: {self.hint})"

    def __str__(self) -> str:
        return self.one_line()


class UsageError(EdgekitError):
    """The command line itself is wrong (missing argument, bad option value)."""

    exit_code = 2
    default_hint = "see `edgekit --help`"


class InputFileError(EdgekitError):
    """A file the user gave is missing, unreadable, truncated or of the wrong kind."""

    exit_code = 3
    default_hint = "check the path and the file format"


class ProfileError(EdgekitError):
    """A device profile is missing, malformed or violates the schema."""

    exit_code = 4
    default_hint = "run `edgekit devices check` and fix the named file and key"


class ConversionError(EdgekitError):
    """A network could not be converted to TFLite (op not convertible, dynamic shape ...)."""

    exit_code = 5
    default_hint = "simplify the named layer or export the model with static shapes"


class CalibrationError(EdgekitError):
    """Calibration / held-out data does not fit the model (shape, dtype, layout)."""

    exit_code = 6
    default_hint = "give an .npy/.npz whose samples have the model's input shape"


class UnsupportedModelError(EdgekitError):
    """The model uses operators, types or options that a stage refuses by name."""

    exit_code = 7
    default_hint = "replace the named operators or quantize the model to int8"


class ToolMissingError(EdgekitError):
    """An external program or optional package edgekit needs is not installed."""

    exit_code = 8
    default_hint = "run `make setup` (or scripts/setup.sh) to install what is missing"


class BuildError(EdgekitError):
    """Compiling generated C or firmware failed."""

    exit_code = 9
    default_hint = "read the compiler output above the error line"


class DeviceError(EdgekitError):
    """A device or its transport failed: unreachable, refused, timed out, protocol mismatch."""

    exit_code = 10
    default_hint = "check that the device is powered, reachable and runs the matching firmware"


class VerificationError(EdgekitError):
    """Generated code or a device gave outputs that differ from the reference."""

    exit_code = 11
    default_hint = "report the model and the first differing layer"


class ResourceLimitError(EdgekitError):
    """A model does not fit the device (RAM, flash) or a target cannot be met."""

    exit_code = 12
    default_hint = "pick a smaller model or a larger device"
