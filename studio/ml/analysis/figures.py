"""Small plots drawn with PIL, for the headless commands: matplotlib is no dependency, and
pyqtgraph would need Qt. One pair of axes per figure: frame, round ticks, labels, and a few marks."""

from __future__ import annotations

import functools
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FIGURE_SIZE = (900, 700)
MARGIN = (80, 60, 30, 70)  # left, top, right, bottom pixels around the axes
TEXT_PT, TITLE_PT = 14, 17


class Axes:
    """One PIL figure with a single pair of axes: data-to-pixel mapping, frame, ticks, labels."""

    def __init__(self, xs, ys, title: str, xlabel: str, ylabel: str, size: tuple[int, int] = FIGURE_SIZE):
        self.image = Image.new("RGB", size, "white")
        self.draw = ImageDraw.Draw(self.image)
        left, top, right, bottom = MARGIN
        self.box = (left, top, size[0] - right, size[1] - bottom)
        self.x_range, self.y_range = _padded_range(xs), _padded_range(ys)
        self._frame(title, xlabel, ylabel)

    def to_pixels(self, x, y):
        """Data coordinates (arrays) -> pixel coordinates (y grows downwards)."""
        x0, y0, x1, y1 = self.box
        (a, b), (c, d) = self.x_range, self.y_range
        return x0 + (x - a) / (b - a) * (x1 - x0), y1 - (y - c) / (d - c) * (y1 - y0)

    def lines(self, paths, colour: str, alpha: int = 110) -> None:
        """(T, n, 2) paths as polylines, on a translucent layer so dense bundles read darker."""
        layer = Image.new("RGBA", self.image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        rgba = rgb(colour) + (alpha,)
        for path in np.moveaxis(paths, 1, 0):
            path = path[np.isfinite(path).all(axis=1)]
            if len(path) > 1:
                px, py = self.to_pixels(path[:, 0], path[:, 1])
                draw.line(list(zip(px.tolist(), py.tolist())), fill=rgba, width=1)
        self.image.paste(Image.alpha_composite(self.image.convert("RGBA"), layer).convert("RGB"))

    def markers(self, points, fill: str | None = None, outline: str = "#202020", radius: int = 4) -> None:
        points = points[np.isfinite(points).all(axis=1)]
        px, py = self.to_pixels(points[:, 0], points[:, 1])
        for x, y in zip(px.tolist(), py.tolist()):
            self.draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill, outline=outline)

    def dots(self, xs, ys, colour: str) -> None:
        """Many small 2x2 dots (return maps have tens of thousands)."""
        keep = np.isfinite(xs) & np.isfinite(ys)
        px, py = self.to_pixels(xs[keep], ys[keep])
        corners = list(zip(px.tolist(), py.tolist()))
        for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
            self.draw.point([(x + dx, y + dy) for x, y in corners], fill=colour)

    def diagonal(self, colour: str) -> None:
        low, high = max(self.x_range[0], self.y_range[0]), min(self.x_range[1], self.y_range[1])
        self.draw.line([self.to_pixels(low, low), self.to_pixels(high, high)], fill=colour, width=1)

    def legend(self, entries: list[tuple[str, str]]) -> None:
        x = self.box[2] - 190
        self.draw.rectangle((x - 8, self.box[1] + 6, self.box[2] - 6, self.box[1] + 12 + 22 * len(entries)),
                            fill="white", outline="#c0c0c0")
        for row, (label, colour) in enumerate(entries):
            y = self.box[1] + 12 + 22 * row
            self.draw.rectangle((x, y + 3, x + 12, y + 15), fill=colour)
            self.draw.text((x + 20, y), label, fill="#202020", font=font())

    def _frame(self, title: str, xlabel: str, ylabel: str) -> None:
        x0, y0, x1, y1 = self.box
        draw = self.draw
        for value in _ticks(*self.x_range):
            px, _ = self.to_pixels(value, 0.0)
            draw.line((px, y0, px, y1), fill="#ececec")
            draw.line((px, y1, px, y1 + 5), fill="#202020")
            draw.text((px, y1 + 8), f"{value:.3g}", fill="#202020", font=font(), anchor="ma")
        for value in _ticks(*self.y_range):
            _, py = self.to_pixels(0.0, value)
            draw.line((x0, py, x1, py), fill="#ececec")
            draw.line((x0 - 5, py, x0, py), fill="#202020")
            draw.text((x0 - 8, py), f"{value:.3g}", fill="#202020", font=font(), anchor="rm")
        draw.rectangle(self.box, outline="#202020")
        draw.text(((x0 + x1) // 2, 8), title, fill="#202020", font=font(TITLE_PT), anchor="ma")
        draw.text(((x0 + x1) // 2, y1 + 32), xlabel, fill="#202020", font=font(), anchor="ma")
        draw.text((8, y0 - 24), ylabel, fill="#202020", font=font())


def _padded_range(values) -> tuple[float, float]:
    """(low, high) of the finite values, 5% wider on each side, never empty."""
    finite = np.asarray(values)[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    pad = 0.05 * (high - low) or 0.5 * max(abs(low), 1e-6)
    return low - pad, high + pad


def _ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) inside [low, high]."""
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(f * power for f in (1, 2, 5, 10) if f * power >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


@functools.cache
def font(size: int = TEXT_PT):
    return ImageFont.load_default(size=size)  # PIL's bundled scalable font: no system fonts needed


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
