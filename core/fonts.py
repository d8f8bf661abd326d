"""The bundled Unicode font (DejaVu Sans) for pictures and documents.

The fonts ship in the package (core/data/fonts, licence in LICENSE-DejaVu.txt), so every name
prints the same whatever the host has installed: Latin with accents, Cyrillic, Greek and more.
Never fall back to Pillow's bitmap default font: it has no glyphs outside ASCII.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import ImageFont

FONTS_DIR = Path(__file__).resolve().parent / "data" / "fonts"
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"


def font_path(bold: bool = False) -> Path:
    """Path of the bundled TrueType file (regular or bold)."""
    return FONTS_DIR / (BOLD if bold else REGULAR)


@cache
def load_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The bundled font at ``size`` pixels (cached: one object per size and weight)."""
    if size <= 0:
        raise ValueError(f"font size must be positive, not {size}")
    return ImageFont.truetype(str(font_path(bold)), size)


__all__ = ["FONTS_DIR", "font_path", "load_font"]
