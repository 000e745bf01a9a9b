"""Draw oxytrack-agent.ico (committed; run again only to change it): `python make_icon.py`.

A teal rounded square with a white ring, at the sizes Windows asks for
(Explorer, taskbar, notification area, Add/Remove Programs). Needs Pillow.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
TEAL = (0, 121, 107, 255)
WHITE = (255, 255, 255, 255)


def draw() -> Image.Image:
    """The 256-pixel master; the smaller sizes are scaled from it."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((8, 8, SIZE - 8, SIZE - 8), radius=48, fill=TEAL)
    pen.ellipse((60, 60, SIZE - 60, SIZE - 60), outline=WHITE, width=30)
    return image


if __name__ == "__main__":
    out = Path(__file__).with_name("oxytrack-agent.ico")
    draw().save(out, sizes=[(16, 16), (32, 32), (48, 48), (256, 256)])
    print(out, out.stat().st_size, "bytes")
