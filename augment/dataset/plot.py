"""Draw the card's length histograms as a PNG with Pillow: a tenth of the time matplotlib took to import alone."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

WIDTH, HEIGHT = 1080, 306  # the 12 x 3.4 inch figure at 90 dpi that matplotlib drew before
BAR, EDGE, INK, GRID = (59, 125, 216), (255, 255, 255), (38, 38, 38), (204, 204, 204)
BINS = 20
# Each panel's frame, in pixels: left margin for the y labels, top for the title, bottom for the x labels.
LEFT, RIGHT, TOP, BOTTOM, GAP = 66, 12, 28, 34, 76
MARGIN = 0.05  # of the data range, left and right of the bars, as matplotlib pads


def histogram_png(series: Sequence[tuple[str, Sequence[int]]]) -> bytes:
    """Return a PNG of one histogram per (title, values), side by side, each with BINS equal bins from min to max."""
    from PIL import Image, ImageDraw, ImageFont  # imported here: only the card needs it

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=12)
    panel = (WIDTH - LEFT - RIGHT - GAP * (len(series) - 1)) // max(len(series), 1)
    for index, (title, values) in enumerate(series):
        left = LEFT + index * (panel + GAP)
        _panel(image, draw, font, (left, TOP, left + panel, HEIGHT - BOTTOM), title, list(values) or [0])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)  # no metadata, no timestamp: stable bytes
    return buffer.getvalue()


def bin_counts(values: Sequence[int], bins: int = BINS) -> tuple[list[int], float, float]:
    """Return the count per bin, and the low and high edges: equal bins, the last one closed, as numpy and pyplot do."""
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts = [0] * bins
    width = (high - low) / bins
    for value in values:
        counts[min(int((value - low) / width), bins - 1)] += 1
    return counts, low, high


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Return round tick values (1, 2, 2.5 or 5 times a power of ten apart) covering low..high, at most `most`."""
    span = max(high - low, 1e-9)
    for power in range(math.floor(math.log10(span / most)) - 1, math.floor(math.log10(span)) + 2):
        for step in (1, 2, 2.5, 5):
            size = step * 10**power
            first = math.ceil(low / size - 1e-9) * size
            ticks = [first + size * i for i in range(int((high - first) / size + 1e-9) + 1)]
            if len(ticks) <= most:
                return ticks
    return [low, high]


def _panel(image, draw, font, box: tuple[int, int, int, int], title: str, values: list[int]) -> None:
    left, top, right, bottom = box
    counts, low, high = bin_counts(values)
    tallest = max(counts)
    y_ticks = nice_ticks(0, tallest)
    ceiling = max(y_ticks[-1], tallest) * 1.05
    for tick in y_ticks:
        y = bottom - (bottom - top) * tick / ceiling
        draw.line((left - 4, y, left, y), fill=INK)
        draw.text((left - 7, y), _label(tick), font=font, fill=INK, anchor="rm")
    pad = (high - low) * MARGIN
    start, span = low - pad, high - low + 2 * pad

    def x_of(value: float) -> float:
        return left + (right - left) * (value - start) / span

    for number, count in enumerate(counts):
        x0, x1 = x_of(low + (high - low) * number / len(counts)), x_of(low + (high - low) * (number + 1) / len(counts))
        if count:
            draw.rectangle((round(x0), round(bottom - (bottom - top) * count / ceiling), round(x1), bottom), fill=BAR, outline=EDGE)
    for tick in nice_ticks(start, start + span):
        draw.line((x_of(tick), bottom, x_of(tick), bottom + 4), fill=INK)
        draw.text((x_of(tick), bottom + 6), _label(tick), font=font, fill=INK, anchor="mt")
    draw.rectangle(box, outline=INK)
    draw.text(((left + right) / 2, top - 8), title, font=font, fill=INK, anchor="md")
    _vertical_text(image, font, "examples", (left - 50, (top + bottom) // 2))


def _vertical_text(image, font, text: str, centre: tuple[int, int]) -> None:
    from PIL import Image, ImageDraw

    box = font.getbbox(text)
    label = Image.new("L", (box[2] + 2, box[3] + 2), 0)
    ImageDraw.Draw(label).text((1, 1), text, font=font, fill=255)
    label = label.rotate(90, expand=True)
    image.paste(INK, (centre[0] - label.width // 2, centre[1] - label.height // 2), label)


def _label(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
