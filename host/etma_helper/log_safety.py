"""Logging failures without their texts.

An exception's text can quote what it was handed: http.client's errors quote request headers,
the Cookie header included. The helper logs an unexpected failure by its type and where it
happened, never by its text, so no session cookie can reach the log file.
"""

from __future__ import annotations

import sys
from pathlib import PurePath

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: the host imports this before its first answer
if TYPE_CHECKING:
    import logging


def describe_current_exception() -> str:
    """``ValueError at batch.py:120 _fetch <- …`` for the exception being handled (and its
    causes), without any of their messages."""
    import traceback  # here, not at start-up: the browser waits for the first answer

    parts = []
    err = sys.exc_info()[1]
    seen = 0
    while err is not None and seen < 4:
        frames = traceback.extract_tb(err.__traceback__)[-6:]
        where = " <- ".join(
            f"{PurePath(frame.filename).name}:{frame.lineno} {frame.name}"
            for frame in reversed(frames)
        )
        parts.append(f"{type(err).__module__}.{type(err).__qualname__} at {where or '?'}")
        err = err.__cause__ or err.__context__
        seen += 1
    return "; caused by ".join(parts) or "no exception"


def log_unexpected(logger: logging.Logger, what: str) -> None:
    """Log the exception being handled as ``what``, by type and place only."""
    logger.error("%s: %s", what, describe_current_exception())
