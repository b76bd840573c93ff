"""Draw the integration's icon into its brand/ folder: a speech bubble holding a house.

Home Assistant (2026.10) serves a custom integration's `brand/icon.png` (and
`icon@2x.png`) itself, where it shows the integration's picture. Standard library only:
each pixel is the share of 4x4 sample points inside the shapes, written as a PNG.

    .venv/bin/python scripts/brand_icon.py
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import struct
import zlib

FOLDER = (
    Path(__file__).parent.parent
    / "custom_components"
    / "extended_ollama_conversation"
    / "brand"
)
BLUE = (3, 169, 244)  # Home Assistant's blue
WHITE = (255, 255, 255)
SAMPLES = 4

type Shape = Callable[[float, float], bool]


def rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> Shape:
    """Inside a rectangle whose corners are rounded with radius r."""

    def inside(x: float, y: float) -> bool:
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return False
        cx = min(max(x, x0 + r), x1 - r)
        cy = min(max(y, y0 + r), y1 - r)
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

    return inside


def triangle(*points: tuple[float, float]) -> Shape:
    """Inside a triangle (the same side of all three edges)."""

    def inside(x: float, y: float) -> bool:
        signs = []
        for (ax, ay), (bx, by) in zip(points, points[1:] + points[:1], strict=True):
            signs.append((bx - ax) * (y - ay) - (by - ay) * (x - ax) >= 0)
        return all(signs) or not any(signs)

    return inside


# On a 256-unit square: the bubble with its tail, the house, the door cut out of it.
BUBBLE = (
    rounded_rect(12, 20, 244, 196, 44),
    triangle((52, 180), (44, 242), (112, 190)),
)
HOUSE = (triangle((128, 46), (204, 110), (52, 110)), rounded_rect(76, 104, 180, 170, 2))
DOOR = rounded_rect(114, 128, 142, 184, 6)


def colour(x: float, y: float) -> tuple[int, int, int, int] | None:
    """The colour at one point of the 256-unit square, or None outside the icon."""
    if any(shape(x, y) for shape in HOUSE) and not DOOR(x, y):
        return (*WHITE, 255)
    if any(shape(x, y) for shape in BUBBLE):
        return (*BLUE, 255)
    return None


def pixels(size: int) -> bytes:
    """RGBA rows, each preceded by PNG's filter byte 0."""
    scale = 256 / size
    rows = bytearray()
    for py in range(size):
        rows.append(0)
        for px in range(size):
            hits = [
                c
                for sy in range(SAMPLES)
                for sx in range(SAMPLES)
                if (
                    c := colour(
                        (px + (sx + 0.5) / SAMPLES) * scale,
                        (py + (sy + 0.5) / SAMPLES) * scale,
                    )
                )
            ]
            if not hits:
                rows += b"\0\0\0\0"
                continue
            rgb = [round(sum(c[i] for c in hits) / len(hits)) for i in range(3)]
            rows += bytes((*rgb, round(255 * len(hits) / SAMPLES**2)))
    return bytes(rows)


def png(size: int) -> bytes:
    """A size x size RGBA PNG of the icon."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels(size), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    """Write icon.png (256 px) and icon@2x.png (512 px)."""
    FOLDER.mkdir(exist_ok=True)
    (FOLDER / "icon.png").write_bytes(png(256))
    (FOLDER / "icon@2x.png").write_bytes(png(512))


if __name__ == "__main__":
    main()
