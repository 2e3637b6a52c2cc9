"""First-person frames of a walk around a small synthetic courtyard, rendered from a seed.

The courtyard is a grid map (Wolfenstein-style): an outer wall painted in runs of muted colours,
a central building whose four faces have four colours, and landmarks so that places along the way
can be told apart: a bright gate in the top and bottom walls, a bright buttress on the left and
right ones, a round pillar in each corner. The camera walks a smooth closed loop around the
building, looking along the path, so consecutive frames change a little and the last frame leads
into the first (``dataset.sequence == "closed"``). The seed picks the colours, where the landmarks
stand and a small change of the route; the same seed gives the same pixels.

Every image column casts rays through the map (a vectorised grid traversal, several rays per
column for anti-aliasing); the wall's vertical extent is covered analytically per pixel row.

Factors, one numpy array of length n_frames each:
  t        phase along the route in [0, 1): frame i is at i / n_frames (even steps along the path)
  x, y     camera position in map cells; x grows along the columns (east), y along the rows (south)
  heading  view direction in radians in [0, 2*pi); 0 looks towards +x, pi/2 towards +y
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from studio.ml.data.base import ImageDataset
from studio.ml.data.shapes import LUMA, hue_to_rgb

MAP_W, MAP_H = 20, 14  # cells, outer wall included
BLOCK = (6, 5, 14, 9)  # the central building: x0, y0, x1, y1 (cells [x0, x1) x [y0, y1))
CENTRE = np.array([MAP_W / 2, MAP_H / 2])
ROUTE_HALF_AXES = (6.5, 4.0)  # the loop runs along the middle of the corridors around the building
ROUTE_EXPONENT = 3.0  # superellipse |x/a|^p + |y/b|^p = 1: nearly straight sides, smooth (not circular) turns
ROUTE_JITTER = 0.2  # cells the seed may move the route's centre and half axes: keeps clear of every wall
LOOK_AHEAD = 1.0  # cells: heading follows the chord over +-LOOK_AHEAD, a tangent smoothed through turns
WALL_HEIGHT, EYE_HEIGHT = 2.2, 0.6  # in cells: high walls around a person, who cannot see over them
FIELD_OF_VIEW = math.radians(70)
FOG_DISTANCE = 16.0  # cells: far walls fade into the haze, which makes depth read at 32x32
HAZE = np.array([0.78, 0.84, 0.90], dtype=np.float32)
SKY_ZENITH = np.array([0.30, 0.50, 0.85], dtype=np.float32)
GROUND = np.array([0.42, 0.38, 0.32], dtype=np.float32)  # sandy paving, at the camera's feet
SUN = np.array([-0.55, -0.83])  # towards the sun (north-west); every wall face gets its own shade
AMBIENT, DIFFUSE = 0.45, 0.55  # half-Lambert shading: back faces darker, never black
CELL_JITTER = 0.07  # brightness variation between wall cells: texture that shows movement
PILLAR_RADIUS = 0.38
RAYS_PER_FRAME = 256  # rays across the image, whatever its size: >= 4 per column at 64x64
BATCH_PIXELS = 2**18  # output pixels per batch of frames: temporaries of a few MB (measured fastest)

# Outward normals of the four faces of a cell, in the order of the face index used below.
FACE_NORMALS = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)], dtype=np.float64)  # west, east, north, south


@dataclass(frozen=True)
class Courtyard:
    """The map: ``solid`` (H, W) bool; ``colour`` (H, W, 4 faces, 3) the shaded RGB of each face
    (faces in FACE_NORMALS order); round pillars at ``pillar_centres`` (P, 2) in ``pillar_colours`` (P, 3)."""

    solid: np.ndarray
    colour: np.ndarray
    pillar_centres: np.ndarray
    pillar_colours: np.ndarray


def face_shade(normals: np.ndarray) -> np.ndarray:
    """Brightness of surfaces with these (..., 2) unit normals, lit by SUN (half-Lambert)."""
    sun = SUN / np.linalg.norm(SUN)
    return AMBIENT + DIFFUSE * (0.5 + 0.5 * (normals @ sun))


def _palette(
    rng: np.random.Generator, n: int, saturation: tuple[float, float], value: tuple[float, float]
) -> np.ndarray:
    """``n`` colours with evenly spread hues from a random start (so neighbours differ), (n, 3)."""
    hues = (rng.uniform() + np.arange(n) / n + rng.uniform(-0.03, 0.03, n)) % 1.0
    return hue_to_rgb(hues, rng.uniform(*saturation, (n, 1)), rng.uniform(*value, (n, 1)))


def _outer_ring() -> list[tuple[int, int]]:
    """The outer wall's cells (y, x) in order around the courtyard, clockwise from the top left."""
    top = [(0, x) for x in range(MAP_W)]
    right = [(y, MAP_W - 1) for y in range(1, MAP_H)]
    bottom = [(MAP_H - 1, x) for x in range(MAP_W - 2, -1, -1)]
    left = [(y, 0) for y in range(MAP_H - 2, 0, -1)]
    return top + right + bottom + left


def build_courtyard(rng: np.random.Generator) -> Courtyard:
    """The courtyard's walls, colours and pillars for one seed."""
    solid = np.zeros((MAP_H, MAP_W), dtype=bool)
    base = np.zeros((MAP_H, MAP_W, 4, 3))  # unshaded colour of every face of every cell
    # outer wall: runs of 2..5 cells, each run a muted colour unlike the previous one
    walls = _palette(rng, 5, (0.25, 0.45), (0.50, 0.90))
    ring, start, previous = _outer_ring(), 0, -1
    while start < len(ring):
        length = int(rng.integers(2, 6))
        previous = int(rng.choice([k for k in range(len(walls)) if k != previous]))
        for y, x in ring[start : start + length]:
            solid[y, x], base[y, x] = True, walls[previous]
        start += length
    # central building: one colour per face, so each side of the loop looks different
    x0, y0, x1, y1 = BLOCK
    solid[y0:y1, x0:x1] = True
    base[y0:y1, x0:x1] = _palette(rng, 4, (0.35, 0.55), (0.45, 0.85))
    # landmarks at seeded places mid-side: a bright gate (two cells flush with the wall) on the
    # top and bottom sides, a bright buttress sticking out on the left and right (wider) corridors
    bright = _palette(rng, 8, (0.75, 0.90), (0.90, 1.00))
    for y, colour in zip((0, MAP_H - 1), bright[:2]):
        x = int(rng.integers(4, MAP_W - 5))
        base[y, x : x + 2] = colour
    for x, colour in zip((1, MAP_W - 2), bright[2:4]):
        y = int(rng.integers(3, MAP_H - 3))
        solid[y, x], base[y, x] = True, colour
    # a little brightness noise per cell, then each face shaded by the sun once, here
    jitter = 1.0 + rng.uniform(-CELL_JITTER, CELL_JITTER, (MAP_H, MAP_W, 1, 1))
    colour = np.clip(base * jitter * face_shade(FACE_NORMALS)[:, None], 0.0, 1.0)
    corners = np.array([(1.9, 1.9), (MAP_W - 1.9, 1.9), (MAP_W - 1.9, MAP_H - 1.9), (1.9, MAP_H - 1.9)])
    return Courtyard(solid, colour.astype(np.float32), corners, bright[4:].astype(np.float32))


def route(t: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Camera ``(x, y, heading)`` at phases ``t`` in [0, 1) of the closed loop, at constant speed.

    The loop is a superellipse around the building (its centre and half axes moved a little by the
    seed), sampled densely and re-parametrised by arc length, so equal steps of t are equal steps
    along the path. The heading looks along the chord between points LOOK_AHEAD before and after.
    """
    centre = CENTRE + rng.uniform(-ROUTE_JITTER, ROUTE_JITTER, 2)
    half_axes = np.asarray(ROUTE_HALF_AXES) + rng.uniform(-ROUTE_JITTER, ROUTE_JITTER, 2)
    angle = np.linspace(0.0, 2.0 * np.pi, 4097)  # clockwise on the map (y grows downward)
    c, s = np.cos(angle), np.sin(angle)
    power = 2.0 / ROUTE_EXPONENT
    dense = centre + half_axes * np.stack([np.sign(c) * np.abs(c) ** power, np.sign(s) * np.abs(s) ** power], -1)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])

    def at(distance: np.ndarray) -> np.ndarray:  # (n, 2) points at arc lengths, wrapping round
        distance = distance % arc[-1]
        return np.stack([np.interp(distance, arc, dense[:, k]) for k in range(2)], -1)

    distance = np.asarray(t, dtype=np.float64) * arc[-1]
    position = at(distance)
    chord = at(distance + LOOK_AHEAD) - at(distance - LOOK_AHEAD)
    heading = np.arctan2(chord[:, 1], chord[:, 0]) % (2.0 * np.pi)
    return position[:, 0], position[:, 1], heading


def _cast_walls(court: Courtyard, px: np.ndarray, py: np.ndarray, rx: np.ndarray, ry: np.ndarray):
    """Grid traversal (DDA) of every ray at once until it enters a solid cell.

    ``px, py`` (F, 1) camera positions; ``rx, ry`` (F, R) ray directions scaled so that their
    component along the view direction is 1, which makes the ray parameter at the hit the
    perpendicular distance (no fisheye). Returns that distance (F, R) and the face colour (F, R, 3).
    """
    shape = rx.shape
    cx = np.broadcast_to(np.floor(px), shape).astype(np.int64)
    cy = np.broadcast_to(np.floor(py), shape).astype(np.int64)
    with np.errstate(divide="ignore"):  # an axis-parallel ray never crosses the other axis' lines
        step_x, step_y = np.abs(1.0 / rx), np.abs(1.0 / ry)
    east, south = rx > 0, ry > 0
    next_x = np.where(east, cx + 1 - px, px - cx) * step_x  # ray parameter at the next grid line
    next_y = np.where(south, cy + 1 - py, py - cy) * step_y
    dx, dy = np.where(east, 1, -1), np.where(south, 1, -1)
    hit_x = np.zeros(shape, dtype=bool)  # whether the last line crossed was vertical (an x side)
    distance = np.zeros(shape)
    active = np.ones(shape, dtype=bool)
    for _ in range(MAP_W + MAP_H):  # the map is closed: every ray hits within this many steps
        along_x = active & (next_x < next_y)
        along_y = active & ~along_x
        distance = np.where(along_x, next_x, np.where(along_y, next_y, distance))
        cx += np.where(along_x, dx, 0)
        cy += np.where(along_y, dy, 0)
        next_x += np.where(along_x, step_x, 0.0)
        next_y += np.where(along_y, step_y, 0.0)
        hit_x = np.where(active, along_x, hit_x)
        active &= ~court.solid[cy, cx]
        if not active.any():
            break
    # the face seen: entered through its west side when going east, and so on (see FACE_NORMALS)
    face = np.where(hit_x, np.where(east, 0, 1), np.where(south, 2, 3))
    return distance, court.colour[cy, cx, face]


def _cast_pillars(court: Courtyard, px, py, rx, ry, distance: np.ndarray, colour: np.ndarray) -> None:
    """Put round pillars in front of the walls where they are nearer (in place), shaded by their normal."""
    a = rx * rx + ry * ry
    for (qx, qy), base in zip(court.pillar_centres, court.pillar_colours):
        ox, oy = px - qx, py - qy
        b = rx * ox + ry * oy
        disc = b * b - a * (ox * ox + oy * oy - PILLAR_RADIUS**2)
        with np.errstate(invalid="ignore"):
            near = (-b - np.sqrt(disc)) / a  # the first crossing of the circle
        nearer = (disc > 0) & (near > 0) & (near < distance)
        if not nearer.any():
            continue
        normal = np.stack([ox + near * rx, oy + near * ry], -1)[nearer] / PILLAR_RADIUS
        distance[nearer] = near[nearer]
        colour[nearer] = base * face_shade(normal)[:, None]


def _backdrop(size: int, horizon: float, focal: float) -> np.ndarray:
    """Sky and ground colour of every pixel row, (size, 3): a sky gradient above the horizon, and
    below it the ground fogged by the distance that row sees (as the walls are)."""
    row = np.arange(size) + 0.5
    above = np.clip((horizon - row) / horizon, 0.0, 1.0)[:, None]
    sky = HAZE + (SKY_ZENITH - HAZE) * above**0.7
    with np.errstate(divide="ignore"):
        ground_distance = EYE_HEIGHT * focal / np.maximum(row - horizon, 1e-9)
    ground = _fog(GROUND, ground_distance[:, None])
    return np.where((row > horizon)[:, None], ground, sky).astype(np.float32)


def _fog(colour: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Blend towards the haze with distance (in cells)."""
    return HAZE + (colour - HAZE) * np.exp(-distance / FOG_DISTANCE)


def _render(
    court: Courtyard, x: np.ndarray, y: np.ndarray, heading: np.ndarray, size: int, channels: int
) -> np.ndarray:
    """Frames as float32 (F, channels, size, size) in [0, 1]; channels 1 is the luminance."""
    per_column = max(1, RAYS_PER_FRAME // size)
    rays = size * per_column
    half_width = math.tan(FIELD_OF_VIEW / 2)
    screen = ((np.arange(rays) + 0.5) / rays * 2.0 - 1.0) * half_width  # right of the view direction
    cos, sin = np.cos(heading)[:, None], np.sin(heading)[:, None]
    rx, ry = cos - sin * screen, sin + cos * screen  # view direction + screen * its right-hand normal
    px, py = x[:, None], y[:, None]
    distance, colour = _cast_walls(court, px, py, rx, ry)
    _cast_pillars(court, px, py, rx, ry, distance, colour)
    focal, horizon = size / 2 / half_width, size / 2
    colour, backdrop = _fog(colour, distance[..., None]), _backdrop(size, horizon, focal)
    if channels == 1:  # luminance is linear, so the blend of luminances is the luminance of the blend
        colour, backdrop = colour @ LUMA[:, None], backdrop @ LUMA[:, None]
    colour = colour.astype(np.float32).transpose(0, 2, 1)[:, :, None, :]  # (F, C, 1, rays)
    backdrop = backdrop.T[None, :, :, None]  # (1, C, size, 1)
    # each ray's wall spans rows [top, bottom] (in pixels); a row is covered by the overlap
    top = (horizon - (WALL_HEIGHT - EYE_HEIGHT) * focal / distance).astype(np.float32)[:, None, None, :]
    bottom = (horizon + EYE_HEIGHT * focal / distance).astype(np.float32)[:, None, None, :]
    row = np.arange(size, dtype=np.float32)[:, None]
    # average the rays of each column one sub-column at a time: a mean over a short last axis
    # would be several times slower in numpy
    blend = np.zeros((len(x), channels, size, size), dtype=np.float32)
    for k in range(per_column):
        ray = slice(k, None, per_column)
        cover = np.clip(np.minimum(bottom[..., ray], row + 1.0) - np.maximum(top[..., ray], row), 0.0, 1.0)
        blend += cover * (colour[..., ray] - backdrop)
    return backdrop + blend / per_column


def render_walk(
    court: Courtyard, x: np.ndarray, y: np.ndarray, heading: np.ndarray, size: int = 64, channels: int = 3
) -> torch.Tensor:
    """Frames seen from camera positions ``x, y`` looking along ``heading``, uint8 (F, C, size, size);
    channels 1 is the luminance of the RGB picture."""
    if channels not in (1, 3):
        raise ValueError(f"walk frames are rendered with 1 or 3 channels, not {channels}")
    if size < 8:
        raise ValueError(f"walk frames must be at least 8x8, not {size}x{size}")
    out = np.empty((len(x), channels, size, size), dtype=np.uint8)
    batch = max(1, BATCH_PIXELS // (size * size))
    for start in range(0, len(x), batch):
        part = slice(start, start + batch)
        frames = _render(court, x[part], y[part], heading[part], size, channels)
        out[part] = (frames * 255.0 + 0.5).astype(np.uint8)  # +0.5: the cast truncates
    return torch.from_numpy(out)


def make_walk(n_frames: int = 1024, size: int = 32, channels: int = 3, seed: int = 0) -> ImageDataset:
    """``n_frames`` evenly spaced frames of one lap around the courtyard made from ``seed``."""
    if n_frames < 1:
        raise ValueError(f"a walk needs at least one frame, not {n_frames}")
    rng = np.random.default_rng(seed)
    court = build_courtyard(rng)
    t = np.arange(n_frames) / n_frames
    x, y, heading = route(t, rng)
    return ImageDataset(
        name="walk",
        images=render_walk(court, x, y, heading, size, channels),
        factors={"t": t, "x": x, "y": y, "heading": heading},
        description=f"{n_frames} frames of a closed walk around a synthetic courtyard, seed {seed}",
        sequence="closed",
    )
