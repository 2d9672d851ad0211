"""Faults the practice eTMA site can inject, so the helper's error handling can be tested."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

FAULT_KINDS = frozenset(
    {"http500", "reset", "truncate", "corrupt", "login_page", "stall", "wrong_type"}
)


@dataclass
class Faults:
    """What goes wrong, and for whom.

    ``per_pi`` maps a PI to the fault kind applied to that student's download request; each PI's
    fault fires ``times`` times, then that PI's downloads succeed (so retries can be tested).
    ``session_expires_after`` makes every eTMA session die after that many successful requests.
    Kinds: http500, reset, truncate, corrupt, login_page, stall, wrong_type.
    """

    per_pi: dict[str, str] = field(default_factory=dict)
    session_expires_after: int | None = None
    times: int = 1_000_000
    # How often each PI's fault has fired; lives here so that assigning new Faults resets it.
    _fired: Counter[str] = field(default_factory=Counter, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        unknown = set(self.per_pi.values()) - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {sorted(FAULT_KINDS)}")

    def take(self, pi: str) -> str | None:
        """The fault to apply to this download of ``pi`` now (counting it), or None."""
        kind = self.per_pi.get(pi)
        if kind is None:
            return None
        with self._lock:
            if self._fired[pi] >= self.times:
                return None
            self._fired[pi] += 1
        return kind

    def fired(self, pi: str) -> int:
        """How many times the fault for ``pi`` has fired so far."""
        with self._lock:
            return self._fired[pi]
