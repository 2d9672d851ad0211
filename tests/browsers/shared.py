"""A browser shared by many tests: started when first needed, and started again when it no
longer answers, so a wedged browser fails the test it wedged and not every test after it."""

from __future__ import annotations

from collections.abc import Callable

from tests.browsers.session import BrowserSession


class Kept:
    """Holds one browser session; ``healthy()`` hands it out once it has answered."""

    def __init__(self, start: Callable[[], BrowserSession], answer_within: float = 15):
        self.start, self.answer_within = start, answer_within
        self.session: BrowserSession | None = None
        self.restarts = 0

    def healthy(self) -> BrowserSession:
        """The session, after a trivial command answered within ``answer_within`` seconds; a
        new one (the old one stopped, or killed) if it did not."""
        if self.session is not None and not self.session.responsive(self.answer_within):
            self.close()
            self.restarts += 1
        if self.session is None:
            self.session = self.start()
        return self.session

    def close(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            session.quit()
