"""Synthetic shapes with known factors, rendered from a seed (no download, no files).

Every image is one anti-aliased shape on a plain background. The factors that made it are kept
(``dataset.factors``), so later panels can measure what a latent edit changed, and
``render_shapes`` can draw any chosen factors again (e.g. "the same image, hue shifted").

Factors, one numpy array of length n each:
  kind        int, index into SHAPE_KINDS
  x, y        centre, in [-0.5, 0.5] of the image side (y grows downward); the shape stays inside
  scale       circumradius as a fraction of the image side: every kind fits in the same circle
  rotation    radians, clockwise on screen; at 0 a corner (or star tip) points right. Only
              meaningful modulo the kind's symmetry (a square repeats every pi/2)
  hue         in [0, 1); the foreground is HSV(hue, 0.85, 0.95)
  background  int, index into BACKGROUND_LEVELS
"""

from __future__ import annotations

import math

import numpy as np
import torch

from studio.ml.data.base import ImageDataset

SHAPE_KINDS = ("circle", "square", "triangle", "star")
# Gray levels, chosen so that every foreground hue keeps contrast in grayscale too: the foreground
# luminance lies in [0.23, 0.86], so backgrounds stay below 0.12 or above 0.97.
BACKGROUND_LEVELS = (0.02, 0.11, 0.97)
SCALE_RANGE = (0.28, 0.42)  # large: a GAN gets the outline right sooner; at 32x32 a triangle is >= 15 px
EDGE_MARGIN = 0.035  # gap between the circumcircle and the image edge: >1 px even at 32x32
STAR_INNER = 0.5  # inner/outer radius of the five-pointed star
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as PIL's convert("L")
# Pixels rendered per numpy call. Small on purpose: malloc recycles temporaries of a few tens of
# KB, while big ones (over glibc's mmap threshold) are mapped and page-faulted afresh by every
# numpy operation; that made 8192 images at 64x64 take 3.5 s instead of 1.4 s on a 2-core VM.
BATCH_PIXELS = 2**14

# (points, inner radius ratio) of the star-polygon each kind is drawn as; None = circle.
# A regular polygon is a "star" whose inner vertices sit on its edge midpoints, cos(pi/n).
_OUTLINES: tuple[tuple[int, float] | None, ...] = (
    None,
    (4, math.cos(math.pi / 4)),
    (3, math.cos(math.pi / 3)),
    (5, STAR_INNER),
)


def sample_factors(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Independent uniform factors; x and y are drawn so the whole shape stays in the image."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(*SCALE_RANGE, n)
    reach = 0.5 - EDGE_MARGIN - scale  # how far the centre may move from the image centre
    return {
        "kind": rng.integers(0, len(SHAPE_KINDS), n),
        "x": rng.uniform(-1, 1, n) * reach,
        "y": rng.uniform(-1, 1, n) * reach,
        "scale": scale,
        "rotation": rng.uniform(0, 2 * np.pi, n),
        "hue": rng.uniform(0, 1, n),
        "background": rng.integers(0, len(BACKGROUND_LEVELS), n),
    }


def hue_to_rgb(hue: np.ndarray, saturation: float = 0.85, value: float = 0.95) -> np.ndarray:
    """HSV -> RGB for an array of hues; shape (n, 3), values in [0, 1]."""
    k = (np.array([5.0, 3.0, 1.0]) + np.asarray(hue)[:, None] * 6.0) % 6.0
    return value - value * saturation * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def _star_polygon_sdf(px: np.ndarray, py: np.ndarray, radius: np.ndarray, points: int, inner: float) -> np.ndarray:
    """Exact signed distance (negative inside) to a regular star polygon, tips at angles 2*pi*k/points.

    The outline is mirror-symmetric, so the point is folded into the half-sector between a tip
    (angle 0) and the next inner vertex (angle pi/points); there one segment is the nearest part
    of the outline (its mirror images are never closer). The fold is a chain of reflections:
    cheaper in numpy than arctan2 and a modulo. Constants are Python floats so that float32
    arrays stay float32 (a numpy float64 scalar would promote them).
    """
    half = math.pi / points
    qx, qy = px, np.abs(py)  # mirror about the tip at angle 0: now the angle is in [0, pi]
    for k in range(points - 1, 0, -1):  # reflect across the mirror line at angle k * half if beyond it
        nx, ny = -math.sin(k * half), math.cos(k * half)
        beyond = np.maximum(qx * nx + qy * ny, 0.0)
        qx, qy = qx - 2.0 * beyond * nx, qy - 2.0 * beyond * ny
    # segment from the tip T = (r, 0) to the inner vertex V = inner * r * (cos half, sin half)
    ex, ey = inner * math.cos(half) - 1.0, inner * math.sin(half)  # (V - T) / r
    wx, wy = qx - radius, qy  # q - T
    t = np.clip((wx * ex + wy * ey) / (radius * (ex * ex + ey * ey)), 0.0, 1.0)
    gx, gy = wx - t * radius * ex, wy - t * radius * ey
    gap = np.sqrt(gx * gx + gy * gy)
    inside = ex * wy - ey * wx > 0  # on the centre's side of the edge line
    return np.where(inside, -gap, gap)


def _signed_distance(kind: int, px: np.ndarray, py: np.ndarray, radius: np.ndarray) -> np.ndarray:
    outline = _OUTLINES[kind]
    if outline is None:
        return np.sqrt(px * px + py * py) - radius
    return _star_polygon_sdf(px, py, radius, *outline)


def _coverage(kind: int, f: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Fraction of each pixel inside the shape, float32 (n, size, size), for shapes of one kind."""
    def col(key: str) -> np.ndarray:  # (n, 1, 1) float32, broadcast against the pixel grid
        return np.asarray(f[key], dtype=np.float32)[:, None, None]

    centres = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5  # pixel centres in [-0.5, 0.5]
    gx, gy = centres[None, None, :] - col("x"), centres[None, :, None] - col("y")
    cos, sin = np.cos(col("rotation")), np.sin(col("rotation"))
    px, py = cos * gx + sin * gy, cos * gy - sin * gx  # into the shape's own frame
    sdf = _signed_distance(kind, px, py, col("scale"))
    # signed distance in pixels -> coverage: a linear ramp one pixel wide centred on the edge
    return np.clip(0.5 - sdf * size, 0.0, 1.0)


def _draw(kind: int, f: dict[str, np.ndarray], size: int, channels: int) -> np.ndarray:
    """Shapes of one kind as uint8 (n, channels, size, size)."""
    coverage = _coverage(kind, f, size)[:, None]
    foreground = hue_to_rgb(np.asarray(f["hue"])).astype(np.float32)  # (n, 3)
    if channels == 1:  # the backgrounds are gray, so the blend's luminance is the blend of luminances
        foreground = foreground @ LUMA[:, None]
    background = np.asarray(BACKGROUND_LEVELS, dtype=np.float32)[np.asarray(f["background"])][:, None]
    lo, hi = background * 255.0 + 0.5, foreground * 255.0 + 0.5  # +0.5: the cast below truncates
    return (lo[..., None, None] + coverage * (hi - lo)[..., None, None]).astype(np.uint8)


def render_shapes(factors: dict[str, np.ndarray], size: int = 64, channels: int = 3) -> torch.Tensor:
    """Draw the given factors (arrays of equal length, keys as in ``sample_factors``) as uint8
    ``(N, channels, size, size)``; channels 1 is the luminance of the RGB picture."""
    if channels not in (1, 3):
        raise ValueError(f"shapes are rendered with 1 or 3 channels, not {channels}")
    kinds = np.asarray(factors["kind"])
    if kinds.size and (kinds.min() < 0 or kinds.max() >= len(SHAPE_KINDS)):
        raise ValueError(f"shape kind must be in 0..{len(SHAPE_KINDS) - 1}")
    out = np.empty((len(kinds), channels, size, size), dtype=np.uint8)
    batch = max(1, BATCH_PIXELS // (size * size))
    for kind in np.unique(kinds):
        indices = np.flatnonzero(kinds == kind)
        for start in range(0, len(indices), batch):
            chosen = indices[start : start + batch]
            out[chosen] = _draw(int(kind), {key: np.asarray(v)[chosen] for key, v in factors.items()}, size, channels)
    return torch.from_numpy(out)


def make_shapes(n: int = 8192, size: int = 64, channels: int = 3, seed: int = 0) -> ImageDataset:
    """``n`` random shapes (factors sampled from ``seed``, then rendered); same seed, same pixels."""
    factors = sample_factors(n, seed)
    return ImageDataset(
        name="shapes",
        images=render_shapes(factors, size, channels),
        factors=factors,
        description=f"{n} synthetic shapes ({', '.join(SHAPE_KINDS)}), seed {seed}",
    )
