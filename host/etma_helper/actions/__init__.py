"""One module per protocol action, named after it; each exposes ``handle(host, message) -> Reply``.

``actions/X.py`` handles action X (``download`` and ``codes`` share ``download_and_codes.py``);
the table that maps each action to its handler is ``native_host.HANDLERS``, which imports a
handler's module on its first request.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import ErrorCode, ProtocolError


class Reply:
    """An ok reply's data, and work to start once the reply is on its way.

    An action that must wait on eTMA gives ``later`` instead of ``data``: the host runs it off
    the read loop (so ``hello`` and ``cancel`` are always answered at once) and sends what it
    returns as the reply's data, or the ProtocolError it raises as an error reply.
    """

    # A plain class, not a dataclass: hello answers with one, and importing dataclasses would
    # add a tenth to the helper's start-up, which the browser waits for.
    __slots__ = ("data", "then", "later")

    def __init__(
        self,
        data: dict | None = None,
        then: Callable[[], None] | None = None,
        later: Callable[[], dict] | None = None,
    ) -> None:
        self.data = data
        self.then = then
        self.later = later

    def __repr__(self) -> str:
        return f"Reply(data={self.data!r}, then={self.then!r}, later={self.later!r})"


def profile_unusable(err: ValueError, profile: Path | None) -> ProtocolError:
    """A site profile that cannot be used (a ``ProfileError``), as the browser is told it."""
    return ProtocolError(ErrorCode.SITE_PROFILE_UNUSABLE, str(err), profile=str(profile))
