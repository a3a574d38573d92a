"""Draw the app's icons as PNG (pure Python, no image library): a ring and a dot on CCAS blue.

Run once after changing the design: .venv/bin/python scripts/make-icons.py
"""

import struct
import zlib
from pathlib import Path

BLUE, WHITE = (11, 79, 138), (255, 255, 255)
OUT = Path(__file__).parent.parent / "outreach" / "static" / "icons"


def png(size: int, pixel) -> bytes:
    """Encode an RGB image given by a pixel function as PNG."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y, size)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        """Write one PNG chunk."""
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def design(scale: float):
    """Draw a ring (the round of the team) around a dot (the person reached), within `scale`."""
    def pixel(x: int, y: int, size: int):
        """Colour one pixel."""
        cx = cy = size / 2
        distance = ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2) ** 0.5 / (size / 2)
        ring = 0.62 * scale <= distance <= 0.80 * scale
        dot = distance <= 0.30 * scale
        return WHITE if ring or dot else BLUE
    return pixel


for name, size, scale in (("icon-192.png", 192, 1.0), ("icon-512.png", 512, 1.0),
                          ("maskable-512.png", 512, 0.75), ("apple-touch-icon.png", 180, 1.0)):
    (OUT / name).write_bytes(png(size, design(scale)))
    print(name)
