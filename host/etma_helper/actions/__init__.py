"""One module per protocol action; each exposes ``handle(host, message) -> Reply``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Reply:
    """An ok reply's data, and work to start once the reply is on its way."""

    data: dict
    then: Callable[[], None] | None = None
