"""The colors a tag may take (``GET /tags/colors``)."""

from __future__ import annotations

#: name -> hex value, in the order a color picker shows them
PALETTE: dict[str, str] = {
    "gray": "#6B7280",
    "red": "#EF4444",
    "orange": "#F97316",
    "amber": "#F59E0B",
    "yellow": "#EAB308",
    "lime": "#84CC16",
    "green": "#22C55E",
    "teal": "#14B8A6",
    "cyan": "#06B6D4",
    "blue": "#3B82F6",
    "indigo": "#6366F1",
    "violet": "#8B5CF6",
    "purple": "#A855F7",
    "pink": "#EC4899",
    "rose": "#F43F5E",
}
DEFAULT_COLOR = PALETTE["gray"]


def palette_color(value: str) -> str | None:
    """The palette's hex value for ``value`` (a hex value in any case, or a color name)."""
    wanted = value.strip().upper()
    for name, hex_value in PALETTE.items():
        if wanted in (hex_value, name.upper()):
            return hex_value
    return None
