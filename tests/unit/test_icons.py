"""The extension's icon: every size the manifest names is there, is a PNG of that size, and is
what scripts/render-icons draws from extension/icons/icon.svg (so the PNGs never drift from the
source)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"


def render_icons():
    loader = importlib.machinery.SourceFileLoader(
        "render_icons", str(ROOT / "scripts" / "render-icons")
    )
    spec = importlib.util.spec_from_loader("render_icons", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_manifest_and_toolbar_icons_are_pngs_of_their_sizes():
    manifest = json.loads((EXTENSION / "manifest.json").read_text(encoding="utf-8"))
    for where in (manifest["icons"], manifest["action"]["default_icon"]):
        assert {"16", "32", "48"} <= set(where)
        for size, name in where.items():
            assert png_size(EXTENSION / name) == (int(size), int(size)), name
    assert "128" in manifest["icons"]
    assert png_size(ROOT / "docs" / "store" / "store-icon-128.png") == (128, 128)


@pytest.mark.parametrize("size", [16, 32])
def test_the_pngs_are_what_the_svg_draws(size):
    script = render_icons()
    drawn = script.png(size, script.draw(size))
    assert (EXTENSION / "icons" / f"icon-{size}.png").read_bytes() == drawn


def test_the_icon_is_transparent_outside_its_rounded_corners_and_blue_inside():
    script = render_icons()
    rows = script.draw(16)
    stride = 1 + 16 * 4

    def pixel(x: int, y: int) -> tuple[int, ...]:
        start = y * stride + 1 + x * 4
        return tuple(rows[start : start + 4])

    assert pixel(0, 0)[3] == 0  # the corner is cut away
    assert pixel(1, 8) == (0x0A, 0x4D, 0x8C, 255)  # the OU-ish blue edge
    assert pixel(5, 12)[:3] == (255, 255, 255)  # the white page
