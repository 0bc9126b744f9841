"""Keep the converters' chatter off the user's terminal.

onnx2tf prints hundreds of coloured lines, TensorFlow's C++ runtime logs to file descriptor 2 and
torch.onnx warns through Python. None of it is addressed to an edgekit user, so during a
conversion both the Python streams and the process-level descriptors 1 and 2 go to a temporary
file. The text stays available (``CapturedLog.text``) for error messages and for --debug.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator


class CapturedLog:
    def __init__(self) -> None:
        self._file: tempfile._TemporaryFileWrapper | None = None
        self._py = io.StringIO()
        self._final: str | None = None

    def text(self) -> str:
        """Everything captured so far (Python-level text first, then descriptor-level output)."""
        if self._final is not None:
            return self._final
        if self._file is None:
            return ""
        sys.stdout.flush()
        sys.stderr.flush()
        self._file.flush()
        with open(self._file.name, "rb") as f:
            raw = f.read().decode("utf-8", errors="replace")
        return self._py.getvalue() + raw


@contextlib.contextmanager
def captured_output(enabled: bool = True) -> Iterator[CapturedLog]:
    """Redirect stdout/stderr (Python objects and descriptors 1, 2) into a log while active."""
    log = CapturedLog()
    if not enabled:
        yield log
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    log._file = tempfile.NamedTemporaryFile(prefix="edgekit-convert-", suffix=".log", delete=False)
    try:
        for fd in (1, 2):
            os.dup2(log._file.fileno(), fd)
        with contextlib.redirect_stdout(log._py), contextlib.redirect_stderr(log._py), \
                warnings.catch_warnings():
            warnings.simplefilter("always")  # record warnings in the log instead of once per process
            yield log
    finally:
        text = log.text()
        for fd, dup in saved.items():
            os.dup2(dup, fd)
            os.close(dup)
        log._file.close()
        os.unlink(log._file.name)
        log._final = text
