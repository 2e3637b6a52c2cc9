"""Rendered 3-D heads, each seen from the side and from the front: pairs for a side -> frontal U-Net.

A head is a union of ellipsoids in head units (the skull's half-height is 1; x to the image's
right when the head faces the camera, y up, z out of the face): a skull and a narrower jaw in the
identity's skin colour (shaded as one smooth surface), a hair cap a little larger than the skull
covering its top and back down to a hairline that climbs to the forehead in front and drops to the
nape behind the ears, two eyeballs sunk into the face (white, with a dark iris and pupil), a nose
that sticks out of the face and tips forward (it shows in profile), ears, and a neck that runs off
the bottom of the image. Eyebrows (a darker shade of the hair) and lips (reddish) are painted onto
the skin. The head turns about the vertical axis by ``yaw``: 0 faces the camera, +90 shows a
profile with the nose pointing to the image's right, -90 the mirror view.

Every pixel casts 2x2 parallel rays (an orthographic camera) that are intersected analytically with
every ellipsoid (a quadratic per ray, vectorised over a batch of heads and over only the pixels the
ellipsoid can cover); the nearest hit is shaded Lambert + ambient under a fixed light from the upper
left front, and the 4 samples are averaged (anti-aliasing). The background is one fixed light, cool
gray with ``backdrop=False``. By default every identity stands before its own backdrop, as people
photographed one at a time in different places: a random colour field with detail down to a few
pixels, the same behind the side views and the frontal view of that head. A model can copy it from
input to target only through its skips, which is what separates the autoencoder from the U-Net
(on the plain background the autoencoder reconstructs these low-dimensional heads almost as well
as the U-Net: see docs/results/unet.md).

Each identity is rendered once frontally (the target) and at SIDE_YAWS, +-30, +-60 and +-90
degrees (the inputs, from a three-quarter view to both profiles): a pair per side view,
``identities * len(SIDE_YAWS)`` pairs in all, identity-major. Every fifth identity (0, 5, 10, ...)
is held out: its pairs are the test pairs, so a test head was never seen in training, from any
side. The seed draws the identities; the same seed gives the same pixels.

The default set (240 identities: 1680 renders at 64x64, 1440 pairs) builds in 1.8-2.5 s on a
shared 2-core VM the first time in a process, 1.1-1.5 s after (numpy's big temporaries page-fault
until malloc has grown); 32x32 takes 0.5-0.7 s.

Factors, one numpy array per pair (an identity's values repeat over its side views):
  identity      int, 0..identities-1
  yaw           the input's yaw in degrees (the target's is 0)
  face_width    half-width of the skull, in head units
  eye_height    height of the eye centres above the skull's centre
  eye_spacing   distance between the eye centres
  nose_length   from the top of the nose to its tip, downwards; longer noses also stick out more
  mouth_height  height of the mouth's centre line (negative: below the skull's centre)
  skin, hair    (N, 3) RGB albedo in [0, 1]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from studio.ml.data.paired import PairedImages
from studio.ml.data.shapes import LUMA, hue_to_rgb

SIDE_YAWS = (-90, -60, -30, 30, 60, 90)  # degrees: both profiles and the views between (0 is the target)
HOLD_OUT_EVERY = 5  # identities 0, 5, 10, ... are the test heads: 20%
SUPERSAMPLE = 2  # rays per pixel side: 2x2 samples averaged
VIEW_CENTRE = (0.0, -0.06)  # head units: hair top to chin centred; the frontal view symmetric
VIEW_HALF = 1.38  # half the image side in head units: a margin of 4+ pixels round the head at 64x64
BACKGROUND = np.array([0.80, 0.83, 0.87], dtype=np.float32)  # light cool gray, unlike any skin or hair
# Backdrops: a muted base colour plus zero-mean RGB noise at three scales (cells across the image,
# amplitude): structure from a quarter of the image down to 4 px at 64x64, more than a bottleneck holds
BACKDROP_OCTAVES = ((4, 0.12), (8, 0.09), (16, 0.06))
BACKDROP_SATURATION, BACKDROP_VALUE = (0.15, 0.45), (0.45, 0.85)
LIGHT = np.array([-0.45, 0.55, 0.70])  # towards the light: upper left front (fixed to the camera)
AMBIENT, DIFFUSE = 0.32, 0.68  # a face turned to the light is at its full albedo; the dark side is not black
BATCH_PIXELS = 2**19  # ray samples per numpy call (32 heads at 64x64): measured fastest

# Per-identity ranges, head units. Ranges keep features apart: the nose ends >= 0.08 above the lips.
FACE_WIDTH = (0.66, 0.84)
EYE_HEIGHT = (0.04, 0.16)
EYE_SPACING = (0.32, 0.46)
NOSE_LENGTH = (0.18, 0.32)
MOUTH_HEIGHT = (-0.58, -0.44)
# Skin albedo from very dark to very light brown; an identity's tone is a uniform point along it.
SKIN_TONES = np.array([(0.22, 0.14, 0.10), (0.38, 0.24, 0.16), (0.56, 0.38, 0.26),
                       (0.73, 0.53, 0.39), (0.86, 0.67, 0.54), (0.96, 0.81, 0.71)])
HAIR_COLOURS = np.array([(0.05, 0.045, 0.04),  # black
                         (0.20, 0.12, 0.07),  # dark brown
                         (0.42, 0.26, 0.14),  # brown
                         (0.86, 0.70, 0.42),  # blond
                         (0.64, 0.25, 0.10),  # red
                         (0.58, 0.58, 0.58)])  # gray
COLOUR_JITTER = (0.10, 0.015)  # brightness (relative), then per channel: no two identities share a colour

SKULL = ((0.0, 0.12, -0.05), (0.92, 0.95))  # centre; half-height and half-depth (the width varies)
JAW = ((0.0, -0.30, 0.10), 0.82, (0.62, 0.74))  # centre; width relative to the skull; height, depth
HAIR_THICKNESS = 0.07  # the cap is the skull grown by this much
# Hair covers the cap where y > a + b z: in front (z > KNEE) it climbs to a forehead, behind the
# ears it drops steeply to the nape.
HAIRLINE, KNEE = (0.14, 0.32, 1.6), -0.2
EYE_RADIUS, EYE_INSET = 0.11, 0.72  # eyeballs sunk into the face by this fraction of their radius
IRIS_COS, PUPIL_COS = 0.72, 0.93  # of the angle between the eye's forward axis and the hit point
SCLERA, IRIS, PUPIL = (0.95, 0.94, 0.90), (0.28, 0.17, 0.09), (0.03, 0.03, 0.03)
NOSE_WIDTH, NOSE_TILT = 0.085, math.radians(22)  # the tip tilts forward, the bridge into the face
BROW = (0.12, 0.16, 0.035)  # half-length, height above the eye centre, half-thickness
BROW_DARKEN, BROW_ARCH = 0.65, 0.04  # brows a darker shade of the hair, their middle this much higher
LIPS = (0.19, 0.05)  # half-width, half-height
LIP_RED, LIP_MIX = np.array([0.72, 0.16, 0.20]), 0.55
EAR = ((0.05, 0.17, 0.11), -0.08, -0.04)  # radii; height below the eyes; depth
NECK = ((0.0, -1.05, -0.12), (0.40, 0.80, 0.44))  # runs off the bottom of the image
BLEND = 0.06  # how far (in units of an ellipsoid's radii) the skull's and jaw's normals blend
FRONT_ONLY = 0.3  # painted features (brows, lips) only on the face: z above this
SKULL_PART, JAW_PART = 0, 1  # their places in _parts()


def sample_heads(identities: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Independent per-identity parameters (the factors above but identity and yaw)."""
    rng = np.random.default_rng(seed)
    tone = rng.uniform(0, len(SKIN_TONES) - 1, identities)
    low = np.minimum(tone.astype(int), len(SKIN_TONES) - 2)
    skin = SKIN_TONES[low] + (tone - low)[:, None] * (SKIN_TONES[low + 1] - SKIN_TONES[low])
    hair = HAIR_COLOURS[rng.integers(0, len(HAIR_COLOURS), identities)]
    return {
        "face_width": rng.uniform(*FACE_WIDTH, identities),
        "eye_height": rng.uniform(*EYE_HEIGHT, identities),
        "eye_spacing": rng.uniform(*EYE_SPACING, identities),
        "nose_length": rng.uniform(*NOSE_LENGTH, identities),
        "mouth_height": rng.uniform(*MOUTH_HEIGHT, identities),
        "skin": _jitter(skin, rng),
        "hair": _jitter(hair, rng),
    }


def _jitter(colours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    brightness, tint = COLOUR_JITTER
    colours = colours * rng.uniform(1 - brightness, 1 + brightness, (len(colours), 1))
    return np.clip(colours + rng.uniform(-tint, tint, colours.shape), 0.0, 1.0)


def _front(centre, radii, x, y):
    """z of the front surface of an axis-aligned ellipsoid at (x, y), where it has one."""
    inside = 1.0 - ((x - centre[0]) / radii[0]) ** 2 - ((y - centre[1]) / radii[1]) ** 2
    return centre[2] + radii[2] * np.sqrt(np.maximum(inside, 0.0))


def _parts(h: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """The ellipsoids of every head: (kind, centre (n, 3), radii (n, 3), pitch (n,)) in head units;
    pitch turns an ellipsoid about the x axis (the nose only). Kinds: "skin", "hair", "eye"."""
    n = len(h["face_width"])
    one, zero = np.ones(n), np.zeros(n)

    def vec(x, y, z):
        return np.stack(np.broadcast_arrays(x, y, z, one)[:3], -1).astype(np.float64)

    width = h["face_width"]
    skull_c, skull_r = vec(*SKULL[0]), vec(width, *SKULL[1])
    jaw_c, jaw_r = vec(*JAW[0]), vec(width * JAW[1], *JAW[2])
    hair_r = skull_r + HAIR_THICKNESS

    def face_z(x, y):  # the front of the face (skull or jaw) at (x, y)
        return np.maximum(_front(skull_c.T, skull_r.T, x, y), _front(jaw_c.T, jaw_r.T, x, y))

    eye_y, eye_x = h["eye_height"], h["eye_spacing"] / 2
    eye_z = face_z(eye_x, eye_y) - EYE_INSET * EYE_RADIUS
    length = h["nose_length"]
    nose_y = eye_y - 0.04 - length / 2
    nose_r = vec(NOSE_WIDTH, length / 2 + 0.03, 0.10 + 0.6 * length)
    ear_r, ear_y, ear_z = EAR
    parts = [
        ("skin", skull_c, skull_r, zero),
        ("skin", jaw_c, jaw_r, zero),
        ("hair", skull_c, hair_r, zero),
        ("skin", vec(*NECK[0]), vec(*NECK[1]), zero),
        ("skin", vec(0.0, nose_y, face_z(0.0, nose_y) - 0.04), nose_r, np.full(n, -NOSE_TILT)),
    ]
    for side in (-1, 1):
        parts.append(("eye", vec(side * eye_x, eye_y, eye_z), vec(EYE_RADIUS, EYE_RADIUS, EYE_RADIUS), zero))
        parts.append(("skin", vec(side * (width - 0.03), eye_y + ear_y, ear_z), vec(*ear_r), zero))
    return parts


def _rotations(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """(n, 3, 3): turn about x by ``pitch``, then about the vertical axis by ``yaw`` (radians)."""
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    one, zero = np.ones_like(yaw), np.zeros_like(yaw)
    about_y = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(-1, 3, 3)
    about_x = np.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], -1).reshape(-1, 3, 3)
    return about_y @ about_x


@dataclass
class _Ellipsoid:
    """One part of n heads in camera space: surface points p satisfy (p - c)^T form (p - c) = 1.
    Its outline lies within pixel ``rows`` x ``cols`` of every image of the batch."""

    kind: str
    centre: np.ndarray  # (n, 3) float32
    form: np.ndarray  # (n, 3, 3) float32, symmetric
    rows: slice
    cols: slice
    centre_z: np.ndarray  # (n, 1, 1) the centre's z in head coordinates (where an eye looks)
    tilted: bool  # pitched (the nose): else form's xy and yz terms are 0, and skipped (faster)


class _Frame:
    """The supersampled pixel grid of a batch of heads turned by one yaw each; per-image values
    as (n, 1, 1) float32 so that they broadcast against (n, rows, cols) pixel blocks."""

    def __init__(self, yaw: np.ndarray, size: int):
        self.n, self.side = len(yaw), size * SUPERSAMPLE
        self.step = 2 * VIEW_HALF / self.side
        centres = (np.arange(self.side) + 0.5) * self.step - VIEW_HALF
        self.u = (VIEW_CENTRE[0] + centres).astype(np.float32)  # x of each column
        self.v = (VIEW_CENTRE[1] - centres).astype(np.float32)  # y of each row, downwards
        self.yaw = yaw
        self.cos = np.cos(yaw).astype(np.float32)[:, None, None]
        self.sin = np.sin(yaw).astype(np.float32)[:, None, None]
        self.turn = _rotations(yaw, np.zeros_like(yaw))  # head -> camera coordinates

    def crop(self, parts: list[_Ellipsoid]) -> tuple[list[_Ellipsoid], slice, slice]:
        """Narrow the grid to the block of whole pixels round every part: the rest is background.
        Returns the parts with their blocks relative to the new grid, and the block's (rows, cols)
        in output pixels."""
        block = []
        for axis in ("rows", "cols"):
            spans = [getattr(e, axis) for e in parts if getattr(e, axis).start < getattr(e, axis).stop]
            start = min((span.start for span in spans), default=0) // SUPERSAMPLE * SUPERSAMPLE
            stop = -(-max((span.stop for span in spans), default=0) // SUPERSAMPLE) * SUPERSAMPLE
            block.append(slice(start, max(start, stop)))
        rows, cols = block
        self.u, self.v = self.u[cols], self.v[rows]

        def shift(span: slice, by: int) -> slice:
            return slice(max(span.start - by, 0), max(span.stop - by, 0))

        parts = [replace(e, rows=shift(e.rows, rows.start), cols=shift(e.cols, cols.start)) for e in parts]
        return parts, *(slice(b.start // SUPERSAMPLE, b.stop // SUPERSAMPLE) for b in block)

    def span(self, coords: np.ndarray, low: np.ndarray, high: np.ndarray) -> slice:
        """The pixels whose centres ``coords`` (self.u or self.v) lie in [low, high] in some image."""
        first, last = float(coords[0]), float(coords[-1])
        ends = (np.array([np.min(low), np.max(high)]) - first) / (last - first) * (len(coords) - 1)
        return slice(max(int(np.floor(ends.min())), 0), min(int(np.ceil(ends.max())) + 1, len(coords)))

    def place(self, kind: str, centre: np.ndarray, radii: np.ndarray, pitch: np.ndarray) -> _Ellipsoid:
        """An ellipsoid given in head coordinates, turned into camera space."""
        axes = _rotations(self.yaw, pitch)  # columns: the ellipsoid's axes in camera space
        turned = np.einsum("nij,nj->ni", self.turn, centre)
        form = axes @ (axes.transpose(0, 2, 1) / radii[:, :, None] ** 2)
        tilted = bool(np.any(pitch))
        if not tilted:  # turned about the vertical only: exactly 0, not rounding noise
            form[:, 0, 1] = form[:, 1, 0] = form[:, 1, 2] = form[:, 2, 1] = 0.0
        reach = np.sqrt(((axes[:, :2] * radii[:, None, :]) ** 2).sum(-1))  # half the outline's width, height
        cols = self.span(self.u, turned[:, 0] - reach[:, 0], turned[:, 0] + reach[:, 0])
        rows = self.span(self.v, turned[:, 1] - reach[:, 1], turned[:, 1] + reach[:, 1])
        return _Ellipsoid(kind, turned.astype(np.float32), form.astype(np.float32), rows, cols,
                          centre[:, 2].astype(np.float32)[:, None, None], tilted)

    def head_box(self, x: tuple[float, float], y: tuple[np.ndarray, np.ndarray], z: tuple[float, float]):
        """(rows, cols) covering the head-space box x, y, z in every image."""
        corners = [self.cos[:, 0, 0] * a + self.sin[:, 0, 0] * b for a in x for b in z]
        return self.span(self.v, y[1], y[0]), self.span(self.u, np.min(corners), np.max(corners))

    def offsets(self, e: _Ellipsoid, rows: slice, cols: slice):
        """x (n, 1, w) and y (n, h, 1): pixel centres relative to the ellipsoid's centre."""
        x = self.u[None, None, cols] - e.centre[:, 0, None, None]
        y = self.v[None, rows, None] - e.centre[:, 1, None, None]
        return x, y


def _gradient(e: _Ellipsoid, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
    """form @ (x, y, w): the outward (unnormalised) normal, as three arrays."""
    f = e.form[:, :, :, None, None]
    if not e.tilted:
        return [f[:, 0, 0] * x + f[:, 0, 2] * w, f[:, 1, 1] * y, f[:, 0, 2] * x + f[:, 2, 2] * w]
    return [f[:, i, 0] * x + f[:, i, 1] * y + f[:, i, 2] * w for i in range(3)]


def _hit(e: _Ellipsoid, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where rays along -z through offsets (x, y) enter the ellipsoid: (w, hit), w the z offset
    from its centre (finite everywhere), hit whether the ray meets it. With S = form the surface is
    a quadratic in w: S33 w^2 + 2 a w + q(x, y) = 0, a = S13 x + S23 y."""
    f = e.form[:, :, :, None, None]
    s11, s22, s33, s12, s13, s23 = f[:, 0, 0], f[:, 1, 1], f[:, 2, 2], f[:, 0, 1], f[:, 0, 2], f[:, 1, 2]
    # the discriminant a^2 - S33 q, split into what varies along rows, along columns, and both
    disc = (s13 * s13 - s33 * s11) * x * x + ((s23 * s23 - s33 * s22) * y * y + s33)
    if e.tilted:
        a = s13 * x + s23 * y
        disc += 2.0 * (s13 * s23 - s33 * s12) * x * y
    else:
        a = s13 * x
    return (np.sqrt(np.maximum(disc, 0.0)) - a) / s33, disc > 0


def _render(h: dict[str, np.ndarray], yaw: np.ndarray, size: int, channels: int,
            backdrops: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Heads ``h`` (arrays of length n) turned by ``yaw`` (n, radians) before ``backdrops`` (float32
    (n, 3, size, size), None: the plain BACKGROUND) as float32 (n, channels, size, size) in [0, 1],
    and the share of each pixel the head covers, float32 (n, size, size). Fastest when every yaw is
    the same: each ellipsoid is intersected only within the block of pixels that its outline covers
    in some image of the batch."""
    frame = _Frame(yaw, size)
    parts, out_rows, out_cols = frame.crop([frame.place(*part) for part in _parts(h)])
    shape = (frame.n, len(frame.v), len(frame.u))
    depth = np.full(shape, -np.inf, dtype=np.float32)  # z of the nearest hit (the camera is at +z)
    nearest = np.full(shape, -1, dtype=np.int8)  # which part
    normal = np.zeros((3, *shape), dtype=np.float32)
    albedo = np.zeros((3, *shape), dtype=np.float32)  # the background's stays 0: backdrop composited below
    for k, e in enumerate(parts):
        rows, cols = e.rows, e.cols
        if rows.start >= rows.stop or cols.start >= cols.stop:
            continue
        x, y = frame.offsets(e, rows, cols)
        w, hit = _hit(e, x, y)
        z = w + e.centre[:, 2, None, None]
        if e.kind == "hair":  # only the cap above the hairline: elsewhere the ray goes on to the skin
            hit &= frame.v[None, rows, None] > _hairline(frame.sin * frame.u[None, None, cols] + frame.cos * z)
        nearer = hit & (z > depth[:, rows, cols])
        np.copyto(depth[:, rows, cols], z, where=nearer)
        np.copyto(nearest[:, rows, cols], k, where=nearer)
        for axis, component in enumerate(_gradient(e, x, y, w)):
            np.copyto(normal[axis, :, rows, cols], component, where=nearer)
        colour = _albedo(e, h, frame, z, cols)
        for channel in range(3):
            np.copyto(albedo[channel, :, rows, cols], colour[channel], where=nearer)
    _smooth_crease(frame, parts[SKULL_PART], parts[JAW_PART], depth, nearest, normal)
    _paint_face(frame, h, depth, nearest, albedo)
    light = [float(c) for c in LIGHT / np.linalg.norm(LIGHT)]  # Python floats keep float32 arrays float32
    lit = normal[0] * light[0] + normal[1] * light[1] + normal[2] * light[2]
    length = np.sqrt(normal[0] * normal[0] + normal[1] * normal[1] + normal[2] * normal[2])
    with np.errstate(invalid="ignore", divide="ignore"):  # the background has no normal
        shade = AMBIENT + DIFFUSE * np.maximum(lit / length, 0.0)
    np.copyto(shade, 0.0, where=nearest < 0)
    colour = albedo * shade
    samples = [(i, j) for i in range(SUPERSAMPLE) for j in range(SUPERSAMPLE)]
    block = sum(colour[..., i::SUPERSAMPLE, j::SUPERSAMPLE] for i, j in samples) / SUPERSAMPLE**2
    covered = sum((nearest[:, i::SUPERSAMPLE, j::SUPERSAMPLE] >= 0) for i, j in samples) / SUPERSAMPLE**2
    pixels = np.empty((3, frame.n, size, size), dtype=np.float32)
    pixels[:] = BACKGROUND[:, None, None, None] if backdrops is None else backdrops.transpose(1, 0, 2, 3)
    behind = pixels[:, :, out_rows, out_cols]
    pixels[:, :, out_rows, out_cols] = block + (1.0 - covered.astype(np.float32)) * behind
    if channels == 1:
        pixels = (LUMA[:, None, None, None] * pixels).sum(0, keepdims=True)
    coverage = np.zeros((frame.n, size, size), dtype=np.float32)
    coverage[:, out_rows, out_cols] = covered
    return pixels.transpose(1, 0, 2, 3), coverage


def _hairline(z: np.ndarray) -> np.ndarray:
    """Height of the hairline at head-space depth z."""
    a, front, back = HAIRLINE
    return a + front * z + (back - front) * np.minimum(z - KNEE, 0.0)


def _albedo(e: _Ellipsoid, h: dict[str, np.ndarray], frame: _Frame, z: np.ndarray, cols: slice) -> list:
    """The part's surface colour at its hits ``z`` in its block, three arrays broadcasting to z."""
    if e.kind == "eye":  # how squarely the hit point faces forward from the eye's centre
        facing = (frame.sin * frame.u[None, None, cols] + frame.cos * z - e.centre_z) / EYE_RADIUS
        pupil, iris = facing > PUPIL_COS, facing > IRIS_COS
        return [np.where(pupil, p, np.where(iris, i, s)) for p, i, s in zip(PUPIL, IRIS, SCLERA)]
    colour = h["hair"] if e.kind == "hair" else h["skin"]
    return list(colour.T.astype(np.float32)[:, :, None, None])


def _smooth_crease(frame: _Frame, skull: _Ellipsoid, jaw: _Ellipsoid, depth, nearest, normal) -> None:
    """Where the jaw meets the skull, shade their union as one smooth surface (in place): the two
    normals are blended by how near the hit point is to each surface (a soft union), so no crease
    line shows; the outline stays their hard union."""
    rows, cols = jaw.rows, jaw.cols
    part = nearest[:, rows, cols]
    on_face = (part == SKULL_PART) | (part == JAW_PART)
    z = np.where(on_face, depth[:, rows, cols], 0.0)
    levels, gradients = [], []
    for e in (skull, jaw):
        x, y = frame.offsets(e, rows, cols)
        w = z - e.centre[:, 2, None, None]
        gradient = _gradient(e, x, y, w)  # unnormalised: both ellipsoids' are of similar length
        levels.append(gradient[0] * x + gradient[1] * y + gradient[2] * w)  # 1 on the surface, more outside
        gradients.append(gradient)
    with np.errstate(over="ignore"):  # far from the face (not used): the weight is 0
        skull_weight = 1.0 / (1.0 + np.exp((levels[0] - levels[1]) / (2.0 * BLEND)))
    for axis, (of_skull, of_jaw) in enumerate(zip(*gradients)):
        np.copyto(normal[axis, :, rows, cols], of_jaw + skull_weight * (of_skull - of_jaw), where=on_face)


def _paint_face(frame: _Frame, h: dict[str, np.ndarray], depth, nearest, albedo) -> None:
    """Eyebrows and lips onto the skull and jaw (in place), by the hit points' head coordinates."""
    spacing, eye_y, mouth_y = (h[key].astype(np.float32)[:, None, None]
                               for key in ("eye_spacing", "eye_height", "mouth_height"))
    half, above, thick = BROW
    reach = float(h["eye_spacing"].max()) / 2 + half
    brow_y = (eye_y[:, 0, 0] + above - thick, eye_y[:, 0, 0] + above + thick + BROW_ARCH)
    lips_y = (mouth_y[:, 0, 0] - LIPS[1], mouth_y[:, 0, 0] + LIPS[1])
    for feature, y_range, x_reach in (("brow", brow_y, reach), ("lips", lips_y, LIPS[0])):
        rows, cols = frame.head_box((-x_reach, x_reach), y_range, (FRONT_ONLY, 1.2))
        if rows.start >= rows.stop or cols.start >= cols.stop:
            continue
        z, u = depth[:, rows, cols], frame.u[None, None, cols]
        x, y = frame.cos * u - frame.sin * z, frame.v[None, rows, None]  # head coordinates of the hits
        skin = (nearest[:, rows, cols] == SKULL_PART) | (nearest[:, rows, cols] == JAW_PART)
        skin &= frame.sin * u + frame.cos * z > FRONT_ONLY
        if feature == "brow":  # an arch over each eye
            along = (np.abs(x) - spacing / 2) / half
            arch = eye_y + above + BROW_ARCH * (1 - along * along)
            paint = skin & (np.abs(along) < 1) & (np.abs(y - arch) < thick)
            colour = h["hair"] * BROW_DARKEN
        else:
            paint = skin & ((x / LIPS[0]) ** 2 + ((y - mouth_y) / LIPS[1]) ** 2 < 1)
            colour = (1 - LIP_MIX) * h["skin"] + LIP_MIX * LIP_RED
        for channel in range(3):
            value = colour[:, channel].astype(np.float32)[:, None, None]
            np.copyto(albedo[channel, :, rows, cols], value, where=paint)


def render_heads(
    heads: dict[str, np.ndarray], yaw: np.ndarray, size: int = 64, channels: int = 3,
    backdrops: np.ndarray | None = None, with_coverage: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Heads with the given parameters (arrays of equal length, keys as in ``sample_heads``) turned
    by ``yaw`` (degrees, one per head) as uint8 ``(N, channels, size, size)``; channels 1 is the
    luminance of the RGB picture. ``backdrops`` (float (N, 3, size, size) in [0, 1], see
    :func:`make_backdrops`) go behind the heads; None is the plain gray. ``with_coverage`` also
    returns the share of each pixel that the head covers, float32 (N, size, size)."""
    if channels not in (1, 3):
        raise ValueError(f"heads are rendered with 1 or 3 channels, not {channels}")
    if size < 8:
        raise ValueError(f"heads must be at least 8x8, not {size}x{size}")
    yaw = np.radians(np.asarray(yaw, dtype=np.float64))
    out = np.empty((len(yaw), channels, size, size), dtype=np.uint8)
    coverage = np.empty((len(yaw), size, size), dtype=np.float32)
    batch = max(1, BATCH_PIXELS // (size * SUPERSAMPLE) ** 2)
    for angle in np.unique(yaw):  # one yaw per batch: the heads cover the same pixels
        indices = np.flatnonzero(yaw == angle)
        for start in range(0, len(indices), batch):
            chosen = indices[start : start + batch]
            part = {key: np.asarray(value)[chosen] for key, value in heads.items()}
            behind = None if backdrops is None else backdrops[chosen]
            pixels, coverage[chosen] = _render(part, yaw[chosen], size, channels, behind)
            out[chosen] = (pixels * 255.0 + 0.5).astype(np.uint8)
    return (torch.from_numpy(out), torch.from_numpy(coverage)) if with_coverage else torch.from_numpy(out)


def make_backdrops(n: int, size: int, seed: int = 0) -> np.ndarray:
    """``n`` random backdrops, float32 (n, 3, size, size) in [0, 1]: a muted colour with detail at
    BACKDROP_OCTAVES (the same structure at any size)."""
    rng = np.random.default_rng([seed, 0xBAC])  # its own stream: the heads do not change with it
    base = hue_to_rgb(rng.uniform(0, 1, n), rng.uniform(*BACKDROP_SATURATION, (n, 1)),
                      rng.uniform(*BACKDROP_VALUE, (n, 1)))
    field = torch.from_numpy(base.astype(np.float32))[:, :, None, None].expand(n, 3, size, size).clone()
    for cells, amplitude in BACKDROP_OCTAVES:
        noise = torch.from_numpy(rng.uniform(-amplitude, amplitude, (n, 3, cells, cells)).astype(np.float32))
        field += torch.nn.functional.interpolate(noise, size=(size, size), mode="bicubic", align_corners=False)
    return field.clamp_(0.0, 1.0).numpy()


def make_heads(size: int = 64, channels: int = 3, identities: int = 240, seed: int = 0,
               backdrop: bool = True) -> PairedImages:
    """``identities`` heads drawn from ``seed``, each as ``len(SIDE_YAWS)`` pairs (side view ->
    frontal view) before the identity's own backdrop (or the plain gray with ``backdrop=False``);
    every fifth identity's pairs are the test pairs."""
    if identities < 1:
        raise ValueError(f"heads needs at least one identity, not {identities}")
    if size % 32:
        raise ValueError(f"head images are a multiple of 32 pixels on a side, not {size}")
    heads = sample_heads(identities, seed)
    views = len(SIDE_YAWS)
    identity = np.repeat(np.arange(identities), views)
    yaw = np.tile(np.asarray(SIDE_YAWS, dtype=np.float64), identities)
    backdrops = make_backdrops(identities, size, seed) if backdrop else None
    frontal, covered = render_heads(heads, np.zeros(identities), size, channels, backdrops, with_coverage=True)
    factors = {"identity": identity, "yaw": yaw, **{key: value[identity] for key, value in heads.items()}}
    test = identity % HOLD_OUT_EVERY == 0 if identities > 1 else np.zeros(len(identity), dtype=bool)
    return PairedImages(
        name="heads" if backdrop else "heads_plain",
        inputs=render_heads(factors, yaw, size, channels, None if backdrops is None else backdrops[identity]),
        targets=frontal[torch.from_numpy(identity)],
        target_mask=(covered > 0.5)[torch.from_numpy(identity)],
        test=test,
        labels=[f"head {i}, yaw {y:+.0f}°" for i, y in zip(identity, yaw)],
        factors=factors,
        description=f"{identities} rendered heads{'' if backdrop else ' on plain gray'}, side views "
        f"({', '.join(f'{y:+d}°' for y in SIDE_YAWS)}) "
        f"-> frontal, every {HOLD_OUT_EVERY}th head held out, seed {seed}",
    )
