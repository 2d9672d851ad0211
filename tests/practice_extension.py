"""The practice build of the extension, for the demo, the tests and the benchmarks.

The shipped ``extension/`` knows only the university's own addresses and no eTMA address at all.
The practice build is a copy of it that also runs on the practice sites: OSCAR pages on
127.0.0.1 and localhost, host permissions for both practice hosts (the eTMA cookies live on
127.0.0.2), and the practice eTMA as its default address (``defaults.json``). The manifest's
``key`` is kept, so the extension id is the same as the shipped one's.

    .venv/bin/python -m tests.practice_extension DIR   # write a build to load by hand
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import sys
import tempfile
from pathlib import Path

from tests.sites import DEMO_ETMA_PORT, ETMA_HOST

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "extension"
PRACTICE_OSCAR_PAGES = ["http://127.0.0.1/oscar/*", "http://localhost/oscar/*"]
PRACTICE_HOSTS = ["http://127.0.0.1/*", "http://127.0.0.2/*", "http://localhost/*"]
PRACTICE_ETMA_URL = f"http://{ETMA_HOST}:{DEMO_ETMA_PORT}/etma/admin"


def build(destination: Path, *, etma_url: str | None = PRACTICE_ETMA_URL) -> Path:
    """Write the practice build into ``destination`` (replaced) and return it.

    ``etma_url=None`` leaves the default eTMA address out, as in the shipped extension.
    """
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(SOURCE, destination)
    manifest_path = destination / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["host_permissions"] = _plus(manifest["host_permissions"], PRACTICE_HOSTS)
    script = manifest["content_scripts"][0]
    script["matches"] = _plus(script["matches"], PRACTICE_OSCAR_PAGES)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    defaults = {"etmaUrl": etma_url or ""}
    (destination / "defaults.json").write_text(json.dumps(defaults, indent=2) + "\n")
    return destination


def _plus(listed: list[str], more: list[str]) -> list[str]:
    return [*listed, *(item for item in more if item not in listed)]


_built: Path | None = None


def path() -> Path:
    """A practice build of the current source, made once per process in a private temporary
    folder (removed at exit): parallel test runs never share one."""
    global _built
    if _built is None:
        folder = Path(tempfile.mkdtemp(prefix="etma-practice-extension-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _built = build(folder / "extension")
    return _built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("destination", type=Path, help="folder to write the build into")
    args = parser.parse_args(argv)
    print(build(args.destination.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
