"""Server-side login sessions keyed by a random cookie token."""

from __future__ import annotations

import secrets
import threading


class SessionStore:
    """Thread-safe set of live session tokens, each counting the requests it has served."""

    def __init__(self) -> None:
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()

    def create(self, token: str | None = None) -> str:
        """Start a new session and return its token (the cookie value; random unless given)."""
        token = token or secrets.token_urlsafe(24)
        with self._lock:
            self._served[token] = 0
        return token

    def use(self, token: str | None, limit: int | None = None) -> bool:
        """True if ``token`` is live, counting this request against it.

        With ``limit``, a session that has already served ``limit`` requests dies now, as a real
        session times out in the middle of a long batch.
        """
        if not token:
            return False
        with self._lock:
            served = self._served.get(token)
            if served is None:
                return False
            if limit is not None and served >= limit:
                del self._served[token]
                return False
            self._served[token] = served + 1
            return True

    def clear(self) -> None:
        """End every session now."""
        with self._lock:
            self._served.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._served)
