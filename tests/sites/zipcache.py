"""Zips built once on disk and served from there, so large zips are never held in memory."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from .cohort import Cohort


class ZipCache:
    """Builds each (PI, pad size) zip once into ``directory`` and hands out its path."""

    def __init__(self, cohort: Cohort, directory: Path) -> None:
        self.cohort = cohort
        self.directory = directory
        self._lock = threading.Lock()
        # One lock per zip, so that concurrent downloads of different students build in parallel
        # while two downloads of the same student wait for a single build.
        self._build_locks: dict[tuple[str, int | None], threading.Lock] = {}

    def path(self, pi: str, pad_to: int | None) -> Path:
        """Path of the finished zip for ``pi`` padded to ``pad_to`` (building it if needed)."""
        key = (pi, pad_to)
        with self._lock:
            build_lock = self._build_locks.setdefault(key, threading.Lock())
        target = self.directory / f"{pi}_{pad_to or 0}.zip"
        with build_lock:
            if not target.exists():
                # Write to a temporary name first: a half-built zip must never be served.
                handle, partial = tempfile.mkstemp(dir=self.directory, suffix=".part")
                with os.fdopen(handle, "wb") as out:
                    self.cohort.write_zip(pi, out, pad_to)
                os.replace(partial, target)
        return target
