"""scripts/build: the release a tutor keeps is the shipped extension, versioned from its
manifest, with no loopback host, as a release folder, a Chromium zip and a Firefox .xpi."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import pytest

from tests import practice_extension

REPO = Path(__file__).resolve().parents[2]


def load_build():
    loader = importlib.machinery.SourceFileLoader("etma_release_build", str(REPO / "scripts/build"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    loader.exec_module(module)
    return module


release = load_build()


def shipped_files() -> set[str]:
    source = REPO / "extension"
    return {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    return release.build(tmp_path_factory.mktemp("dist"))


def test_the_release_is_named_by_the_manifests_version(built):
    version = json.loads((REPO / "extension/manifest.json").read_text())["version"]
    assert built["folder"].name == f"etma-helper-{version}"
    assert built["chromium"].name == f"etma-helper-{version}-chromium.zip"
    assert built["firefox"].name == f"etma-helper-{version}-firefox.xpi"


@pytest.mark.parametrize("artefact", ["chromium", "firefox"])
def test_each_archive_holds_exactly_the_shipped_extension_with_no_loopback_host(built, artefact):
    with zipfile.ZipFile(built[artefact]) as bundle:
        names = {name for name in bundle.namelist() if not name.endswith("/")}
        assert names == shipped_files()
        manifest = json.loads(bundle.read("manifest.json"))
        for name in names:
            text = bundle.read(name).decode("utf-8", "replace")
            assert not release.LOOPBACK.search(text), name
    assert manifest == json.loads((REPO / "extension/manifest.json").read_text())
    assert not any("127.0.0.1" in match for match in manifest["host_permissions"])


def test_the_release_folder_can_be_loaded_unpacked(built):
    folder = built["folder"]
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} == (
        shipped_files()
    )
    assert release.loopback_hosts(folder) == []


def test_a_practice_build_is_refused(tmp_path: Path):
    practice = practice_extension.build(tmp_path / "practice")
    found = release.loopback_hosts(practice)
    assert any(line.startswith("manifest.json: 127.0.0.1") for line in found), found
    with pytest.raises(release.BuildError, match="loopback"):
        release.build(tmp_path / "dist", source=practice)


@pytest.mark.parametrize(
    "text",
    ["http://localhost:8080/", "ws://127.0.0.2/x", "http://[::1]/", "LOCALHOST", "0.0.0.0"],
)
def test_every_kind_of_loopback_address_is_caught(text: str):
    assert release.LOOPBACK.search(f"const where = '{text}';")


@pytest.mark.parametrize("text", ["https://*.open.ac.uk/oscar/*", "version 10.127.0.0.1a"])
def test_ordinary_addresses_are_not_loopback(text: str):
    assert not release.LOOPBACK.search(text)


def test_a_helper_with_another_version_stops_the_build(tmp_path: Path):
    (tmp_path / "extension").mkdir()
    (tmp_path / "extension/manifest.json").write_text(json.dumps({"version": "1.2.0"}))
    (tmp_path / "host/etma_helper").mkdir(parents=True)
    (tmp_path / "host/etma_helper/__init__.py").write_text('__version__ = "1.1.0"\n')
    with pytest.raises(release.BuildError, match="same version"):
        release.release_version(tmp_path / "extension", tmp_path)
    (tmp_path / "host/etma_helper/__init__.py").write_text('__version__ = "1.2.0"\n')
    assert release.release_version(tmp_path / "extension", tmp_path) == "1.2.0"


def test_the_documented_command_builds_into_dist_by_default():
    assert release.main.__defaults__ == (None,)
    parser_default = release.REPO / "dist"
    assert parser_default == REPO / "dist"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "scripts/build" in readme and "xpinstall.signatures.required" in readme
    assert "web-ext sign --channel=unlisted" in readme and "ExtensionInstallForcelist" in readme
