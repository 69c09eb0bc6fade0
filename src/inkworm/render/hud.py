"""Text on the chip's frame: title, legend, well tags, the caption and the side panel.

Text is drawn with FreeType (PIL) straight into the frame at the output resolution, in DejaVu
Sans, and cached by content: a caption costs about a millisecond once, where a manim ``Text``
costs ~45 ms to build (SVG parsing) and a redraw of its glyph paths on every frame it moves.
That difference is most of the budget of a whole bowtie render (see ``make bench``).
"""

from __future__ import annotations

import functools
import math
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from inkworm.render import palette as P

Span = tuple[str, str]
"""A run of text and its colour."""


@functools.cache
def font_path(bold: bool = False) -> str:
    """DejaVu Sans from fontconfig (Debian: fonts-dejavu-core)."""
    name = "DejaVu Sans:bold" if bold else "DejaVu Sans"
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", name], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        if out:
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    return "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"


@functools.cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(bold), size)


@dataclass(frozen=True)
class TextBlock:
    """Lines of coloured spans rendered once into an RGBA image."""

    image: NDArray[np.uint8]

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @functools.cached_property
    def reach(self) -> NDArray[np.bool_]:
        """The pixels :func:`blit` of the whole block may change (:func:`reach`)."""
        return reach(self.image)


@functools.lru_cache(maxsize=4096)
def render_lines(lines: tuple[tuple[Span, ...], ...], size: int, bold: bool = False,
                 spacing: float = 1.3, max_width: int = 0, centred: bool = False) -> TextBlock:
    """Render lines of spans (cached). Lines wider than ``max_width`` are scaled down;
    ``centred``: each line centred in the block (else flush left)."""
    face = font(size, bold)
    ascent, descent = face.getmetrics()
    step = round(size * spacing)
    widths = [sum(face.getlength(text) for text, _ in line) for line in lines]
    width = int(max(widths, default=0)) + 2
    height = step * (len(lines) - 1) + ascent + descent + 2 if lines else 1
    image = Image.new("RGBA", (max(width, 1), max(height, 1)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        x = 1.0 + ((width - 2 - widths[row]) / 2 if centred else 0.0)
        for text, colour in line:
            draw.text((x, 1 + row * step), text, font=face, fill=colour)
            x += face.getlength(text)
    if max_width and image.width > max_width:
        ratio = max_width / image.width
        image = image.resize((max_width, max(1, int(image.height * ratio))),
                             Image.Resampling.LANCZOS)
    return TextBlock(np.array(image, dtype=np.uint8))


def wrapped(text: str, colour: str, size: int, max_width: int,
            max_lines: int = 2) -> tuple[tuple[Span, ...], ...]:
    """``text`` as up to ``max_lines`` lines no wider than ``max_width`` where its words
    allow (broken at spaces, the lines balanced); wider ones are scaled down by
    :func:`render_lines`."""
    face = font(size)
    if face.getlength(text) <= max_width or " " not in text:
        return (plain(text, colour),)
    words = text.split(" ")
    lines = max(2, min(max_lines, math.ceil(face.getlength(text) / max_width)))
    target = face.getlength(text) / lines
    rows: list[str] = []
    row = ""
    for word in words:
        candidate = f"{row} {word}" if row else word
        if row and face.getlength(candidate) > target * 1.08 and len(rows) < lines - 1:
            rows.append(row)
            row = word
        else:
            row = candidate
    rows.append(row)
    return tuple(plain(r, colour) for r in rows)


def stack(blocks: Sequence[TextBlock]) -> TextBlock:
    """Blocks one under the other, flush left."""
    width = max(b.width for b in blocks)
    image = np.zeros((sum(b.height for b in blocks), width, 4), dtype=np.uint8)
    y = 0
    for b in blocks:
        image[y:y + b.height, :b.width] = b.image
        y += b.height
    return TextBlock(image)


def beside(blocks: Sequence[TextBlock], gap: int) -> TextBlock:
    """Blocks side by side, top-aligned, ``gap`` pixels apart."""
    height = max(b.height for b in blocks)
    image = np.zeros((height, sum(b.width for b in blocks) + gap * (len(blocks) - 1), 4),
                     dtype=np.uint8)
    x = 0
    for b in blocks:
        image[:b.height, x:x + b.width] = b.image
        x += b.width + gap
    return TextBlock(image)


def plated(block: TextBlock, rgb: tuple[int, int, int], alpha: float, pad: int) -> TextBlock:
    """``block`` over a rounded plate of ``rgb`` at ``alpha``, ``pad`` pixels around it."""
    h, w = block.height + 2 * pad, block.width + 2 * pad
    plate = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(plate).rounded_rectangle((0, 0, w - 1, h - 1), radius=pad,
                                            fill=(*rgb, round(alpha * 255)))
    text = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    text.paste(Image.fromarray(block.image), (pad, pad))
    return TextBlock(np.array(Image.alpha_composite(plate, text), dtype=np.uint8))


def plain(text: str, colour: str = P.TEXT) -> tuple[Span, ...]:
    return ((text, colour),)


def blit(frame: NDArray[np.uint8], block: TextBlock, x: float, y: float,
         anchor: str = "lt") -> tuple[int, int, int, int]:
    """Alpha-blend ``block`` onto ``frame`` (RGBA, straight alpha); return the box it covers.

    ``anchor``: ``lt`` left-top, ``mt`` middle-top, ``lb`` left-bottom, ``mm`` middle-middle.
    """
    x0, y0, x1, y1, image, seen = _placed(frame.shape, block, x, y, anchor)
    if image is None:
        return (x0, y0, x0, y0)
    region = frame[y0:y1, x0:x1]
    if not seen.all():  # mostly clear (a leader line's box): blend only what shows
        region[seen] = _over(image[seen], region[seen])
    else:
        region[...] = _over(image, region)
    return (x0, y0, x1, y1)


def blit_pixels(shape: tuple[int, ...], block: TextBlock, x: float,
                y: float) -> NDArray[np.int64]:
    """The pixels (flat indices into a frame of ``shape``) :func:`blit` of ``block`` at
    ``x``, ``y`` (anchor ``lt``) may change."""
    x0, y0, _, _, image, seen = _placed(shape, block, x, y, "lt")
    if image is None:
        return np.zeros(0, dtype=np.int64)
    ys, xs = np.nonzero(seen)
    pixels: NDArray[np.int64] = ((ys + y0) * shape[1] + xs + x0).astype(np.int64)
    return pixels


def _placed(shape: tuple[int, ...], block: TextBlock, x: float, y: float, anchor: str
            ) -> tuple[int, int, int, int, NDArray[np.uint8] | None, NDArray[np.bool_]]:
    """Where :func:`blit` puts ``block`` in a frame of ``shape``: the box (x0, y0, x1, y1)
    clipped to the frame, the part of the block inside it (``None``: none) and the pixels of
    that part the blit may change (:func:`reach`)."""
    h, w = block.height, block.width
    left = round(x - (w / 2 if anchor[0] == "m" else 0))
    top = round(y - {"t": 0, "b": h, "m": h / 2}[anchor[1]])
    fh, fw = shape[:2]
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + w, fw), min(top + h, fh)
    if x1 <= x0 or y1 <= y0:
        return x0, y0, x1, y1, None, np.zeros((0, 0), dtype=bool)
    image = block.image[y0 - top : y1 - top, x0 - left : x1 - left]
    whole = image.shape == block.image.shape
    seen = block.reach if whole else reach(image)  # a tag is blitted again and again
    return x0, y0, x1, y1, image, seen


def reach(image: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """The pixels :func:`blit` of ``image`` may change: those that show if it is mostly clear
    (a leader line's box), else all of them."""
    seen = image[..., 3] != 0
    return seen if seen.mean() < 0.5 else np.ones(seen.shape, dtype=bool)


def _over(image: NDArray[np.uint8], under: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """``image`` over ``under`` (RGBA pixels, straight alpha)."""
    if not under[..., 3].any():  # over nothing (a tag on the chip's clear top layer): itself
        clear: NDArray[np.uint8] = image.copy()
        clear[image[..., 3] == 0] = 0
        return clear
    src = image.astype(np.float32)
    dst = under.astype(np.float32)
    alpha = src[..., 3:4] / 255.0
    below = dst[..., 3:4] / 255.0 * (1 - alpha)
    out = alpha + below  # "over", straight alpha: exact on an opaque frame and a clear one
    dst[..., :3] = (src[..., :3] * alpha + dst[..., :3] * below) / np.maximum(out, 1e-6)
    dst[..., 3:4] = out * 255.0
    result: NDArray[np.uint8] = np.clip(dst + 0.5, 0, 255).astype(np.uint8)
    return result


def tag(label: str, size: int, longest: int = 14) -> TextBlock:
    """A well's name on a small dark pill (readable over ink, substrate and glass alike);
    names longer than ``longest`` characters are cut with an ellipsis."""
    if len(label) > longest:
        label = label[: longest - 1] + "\u2026"
    return _tag(label, size)


def tag_size(label: str, size: int, longest: int = 14) -> tuple[int, int]:
    """The (width, height) of :func:`tag`'s block, measured without drawing it (placing the
    tags of a 1,000-node chip needs every size, drawing them took 2 s)."""
    if len(label) > longest:
        label = label[: longest - 1] + "\u2026"
    face = font(size, True)
    ascent, descent = face.getmetrics()
    pad_x, pad_y = _tag_pad(size)
    return (int(face.getlength(label)) + 2 + 2 * pad_x, ascent + descent + 2 + 2 * pad_y)


def _tag_pad(size: int) -> tuple[int, int]:
    return max(3, size // 3), max(1, size // 6)


@functools.lru_cache(maxsize=4096)
def _tag(label: str, size: int) -> TextBlock:
    text = render_lines((plain(label),), size, bold=True)
    pad_x, pad_y = _tag_pad(size)
    w, h = text.width + 2 * pad_x, text.height + 2 * pad_y
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle((0, 0, w - 1, h - 1), radius=min(h // 2, 6),
                                            fill=(*P.BACKGROUND, 235))
    pill = np.array(image, dtype=np.uint8)
    blit(pill, text, pad_x, pad_y)
    return TextBlock(pill)


def swatch(colour: str, width: int, height: int) -> TextBlock:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle((0, 0, width - 1, height - 1),
                                            radius=max(1, height // 3), fill=colour,
                                            outline=P.hex_rgb("#5f6b78"),
                                            width=max(1, height // 8))
    return TextBlock(np.array(image, dtype=np.uint8))
