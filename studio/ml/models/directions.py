"""Three ways to move a latent vector z along K "directions" (seed paper 004, Deep Curvilinear Editing).

- ``LinearDirections`` (LinearGANSpace, Voynov and Babenko 2020): z' = z + t a_k with unit
  columns a_k of a matrix A. Edits commute exactly, but every path is a straight line.
- ``WarpedDirections`` (WarpedGANSpace, Tzelepis et al. 2021): each direction is the normalised
  gradient of a sum of RBFs around support vectors ("dipoles" of opposite weight), followed by
  Euler steps. Paths curve, but two fields' flows do not commute in general.
- ``CurvilinearDirections`` (DeCurvEd, Aoshima and Matsubara 2023): an invertible f: z -> v and
  z' = f^-1(f(z) + t e_k). Paths curve and edits commute, because addition in v commutes. f is a
  coupling flow (an LU-parameterised linear map and RealNVP affine couplings) rather than the
  paper's ODE flow: its inverse and log-determinant are exact and it is cheap on a CPU.

Every model has ``shift(z, k, t)`` (per row: direction ``k[i]`` by ``t[i]``) and ``apply(z,
edits)`` (a sequence of (k, t) done in that order). Everything is closed-form, with no autograd,
so it runs under the inference thread's ``torch.inference_mode``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from studio.ml.training.directions_params import METHODS

Edits = Sequence[tuple[int, float]]


class DirectionModel(nn.Module):
    """K directions in an nz-dimensional latent space."""

    method: str

    def __init__(self, nz: int, directions: int):
        super().__init__()
        if not 1 <= directions:
            raise ValueError(f"a direction model needs at least one direction, not {directions}")
        self.nz, self.directions = nz, directions

    def shift(self, z: torch.Tensor, k: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Row i of ``z`` (B, nz) moved along direction ``k[i]`` by ``t[i]`` (both of length B)."""
        raise NotImplementedError

    def forward(self, z: torch.Tensor, k: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """:meth:`shift`, as a call of the module (what a DistributedDataParallel wrapper sees)."""
        return self.shift(z, k, t)

    def apply(self, z: torch.Tensor, edits: Edits) -> torch.Tensor:
        """``z`` (B, nz) edited by ``edits``, (direction, amount) pairs in order."""
        return self.apply_in_turn(z, edits)

    def apply_in_turn(self, z: torch.Tensor, edits: Edits) -> torch.Tensor:
        """Each edit a separate ``shift`` of the previous result: what the commutativity measure
        compares, since a model may take a shortcut in ``apply``."""
        for k, t in edits:
            self._check_direction(k)
            rows = z.shape[0]
            z = self.shift(z, torch.full((rows,), int(k), device=z.device),
                           torch.full((rows,), float(t), device=z.device, dtype=z.dtype))
        return z

    def _check_direction(self, k: int) -> None:
        if not 0 <= int(k) < self.directions:
            raise IndexError(f"direction {k} out of range: the model has {self.directions}")


class LinearDirections(DirectionModel):
    method = "linear"

    def __init__(self, nz: int, directions: int):
        super().__init__(nz, directions)
        self.matrix = nn.Parameter(torch.randn(nz, directions) / nz**0.5)

    def unit_directions(self) -> torch.Tensor:
        """(K, nz): the columns of A scaled to unit length, so t is a distance in z."""
        return (self.matrix / self.matrix.norm(dim=0, keepdim=True).clamp_min(1e-8)).T

    def shift(self, z, k, t):
        return z + t[:, None] * self.unit_directions()[k]


class WarpedDirections(DirectionModel):
    """Field k is f_k(z) = sum_i alpha_ki exp(-gamma_ki |z - s_ki|^2); an edit by t takes
    ``euler_steps`` steps of length t / euler_steps along grad f_k / |grad f_k|.

    Support vectors come in dipoles: a pair ``dipole_gap`` apart with weights +1 and -1, so near
    the pair the gradient points from one to the other. The supports and the bandwidths are
    learnt; the weights stay fixed at +-1 as in WarpedGANSpace.
    """

    method = "warped"

    def __init__(self, nz: int, directions: int, dipoles: int = 4, euler_steps: int = 8,
                 dipole_gap: float = 1.0, bandwidth: float | None = None):
        super().__init__(nz, directions)
        centres = torch.randn(directions, dipoles, nz)
        gap = torch.randn(directions, dipoles, nz)
        gap = gap / gap.norm(dim=-1, keepdim=True) * dipole_gap / 2
        self.supports = nn.Parameter(torch.cat([centres + gap, centres - gap], dim=1))  # (K, 2D, nz)
        ones = torch.ones(directions, dipoles)
        self.register_buffer("alphas", torch.cat([ones, -ones], dim=1))
        # exp(-gamma |z - s|^2) should still be felt a typical distance |z - s| ~ sqrt(2 nz) away
        gamma = bandwidth if bandwidth is not None else 1.0 / (2.0 * nz)
        self.log_gammas = nn.Parameter(torch.full((directions, 2 * dipoles), float(gamma)).log())
        self.euler_steps = euler_steps

    def gradient(self, z: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """grad f_k at z, row by row: (B, nz)."""
        supports, gammas, alphas = self.supports[k], self.log_gammas[k].exp(), self.alphas[k]  # (B, S, nz), (B, S)
        offsets = z[:, None, :] - supports
        weights = alphas * gammas * torch.exp(-gammas * offsets.square().sum(-1))
        return -2.0 * (weights[..., None] * offsets).sum(1)

    def shift(self, z, k, t):
        step = (t / self.euler_steps)[:, None]
        for _ in range(self.euler_steps):
            grad = self.gradient(z, k)
            z = z + step * grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-8)
        return z


class CurvilinearDirections(DirectionModel):
    """z' = f^-1(f(z) + t e_k) with f an exact coupling flow; direction k is axis k of v = f(z)."""

    method = "curvilinear"

    def __init__(self, nz: int, directions: int, couplings: int = 4, hidden: int = 64):
        super().__init__(nz, directions)
        if directions > nz:
            raise ValueError(f"curvilinear editing moves along axes of f(z): at most nz={nz} directions, "
                             f"not {directions}")
        self.flow = CouplingFlow(nz, couplings, hidden)

    def shift(self, z, k, t):
        return self.forward(z, k, t)

    def forward(self, z, k, t, log_dets: bool = False):
        """:meth:`shift`; with ``log_dets``, ``(z', log|det df/dz| at z, log|det df^-1/dv| on the
        way back)``, each per row: what the training loss keeps near zero."""
        v, log_det = self.flow(z)
        v = v + t[:, None] * nn.functional.one_hot(k, self.nz).to(v.dtype)
        z_edited, log_det_back = self.flow.inverse(v)
        return (z_edited, log_det, log_det_back) if log_dets else z_edited

    def apply(self, z: torch.Tensor, edits: Edits) -> torch.Tensor:
        """All edits at once, one trip through f and back: addition in v commutes, so the order
        cannot matter (``apply_in_turn`` goes through f once per edit)."""
        if not edits:
            return z
        offset = torch.zeros(self.nz, dtype=z.dtype, device=z.device)
        for k, t in edits:
            self._check_direction(k)
            offset[int(k)] += float(t)
        return self.flow.inverse(self.flow(z)[0] + offset)[0]


class InvertibleLinear(nn.Module):
    """W = P L (U + diag(sign * exp(log_scale))) (Glow's LU form): log|det W| = sum(log_scale).

    Without gradients (inference, evaluation) W and W^-1 are built once and kept until a
    parameter changes or is replaced: a slider's edit at batch 1 then costs one small matrix
    product each way, not the LU product and two triangular solves.
    """

    def __init__(self, n: int):
        super().__init__()
        q = torch.linalg.qr(torch.randn(n, n))[0]
        p, lower, upper = torch.linalg.lu(q)
        diagonal = upper.diagonal()
        self.register_buffer("permutation", p)
        self.register_buffer("sign", diagonal.sign())
        self.register_buffer("lower_mask", torch.tril(torch.ones(n, n), -1))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(upper.triu(1))
        self.log_scale = nn.Parameter(diagonal.abs().log())
        self._frozen: tuple[tuple, torch.Tensor, torch.Tensor] | None = None

    def _matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W^T, (W^-1)^T); kept for calls without gradients while the parameters are unchanged."""
        params = (self.lower, self.upper, self.log_scale)
        key = tuple((p.data_ptr(), p._version, p.dtype) for p in params)
        cache = not torch.is_grad_enabled()
        if cache and self._frozen is not None and self._frozen[0] == key:
            return self._frozen[1], self._frozen[2]
        with torch.inference_mode(False):  # a cache made on the inference thread must serve no_grad code too
            weight, inverse = self._build_matrices()
        if cache:
            self._frozen = (key, weight.T.clone(), inverse.T.clone())
        return weight.T, inverse.T

    def _build_matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        eye = torch.eye(len(self.sign), device=self.sign.device, dtype=self.lower.dtype)
        lower = self.lower * self.lower_mask + eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign * self.log_scale.exp())
        weight = self.permutation @ lower @ upper
        # W^-1 = U^-1 L^-1 P^T, by two triangular solves
        inverse = torch.linalg.solve_triangular(
            upper, torch.linalg.solve_triangular(lower, self.permutation.T, upper=False, unitriangular=True),
            upper=True)
        return weight, inverse

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x @ self._matrices()[0], self.log_scale.sum().expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return y @ self._matrices()[1], -self.log_scale.sum().expand(y.shape[0])


class AffineCoupling(nn.Module):
    """RealNVP: one half of the coordinates passes through and sets a scale and shift of the other
    (``swap``: which half is which). The log-scale is bounded by tanh, and the last layer starts at
    zero, so the coupling starts as the identity and stays well-conditioned."""

    def __init__(self, n: int, hidden: int, swap: bool):
        super().__init__()
        self.half, self.swap = n // 2, swap
        kept = n - self.half if swap else self.half
        self.net = nn.Sequential(nn.Linear(kept, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, 2 * (n - kept)))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        first, second = x[:, :self.half], x[:, self.half:]
        return (second, first) if self.swap else (first, second)

    def _join(self, kept: torch.Tensor, free: torch.Tensor) -> torch.Tensor:
        return torch.cat((free, kept) if self.swap else (kept, free), dim=1)

    def _scale_shift(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_scale, shift = self.net(kept).chunk(2, dim=1)
        return torch.tanh(log_scale), shift

    def forward(self, x):
        kept, free = self._split(x)
        log_scale, shift = self._scale_shift(kept)
        return self._join(kept, free * log_scale.exp() + shift), log_scale.sum(1)

    def inverse(self, y):
        kept, free = self._split(y)
        log_scale, shift = self._scale_shift(kept)
        return self._join(kept, (free - shift) * (-log_scale).exp()), -log_scale.sum(1)


class CouplingFlow(nn.Module):
    """An invertible linear map, then ``couplings`` affine couplings on alternating halves (none
    for a 1-d latent, which has no halves). ``flow(z)`` and ``flow.inverse(v)`` return the image
    and log|det| of the Jacobian, per row."""

    def __init__(self, n: int, couplings: int = 4, hidden: int = 64):
        super().__init__()
        layers: list[nn.Module] = [InvertibleLinear(n)]
        if n > 1:
            layers += [AffineCoupling(n, hidden, swap=i % 2 == 1) for i in range(couplings)]
        self.layers = nn.ModuleList(layers)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        for layer in self.layers:
            z, part = layer(z)
            log_det = log_det + part
        return z, log_det

    def inverse(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = torch.zeros(v.shape[0], dtype=v.dtype, device=v.device)
        for layer in reversed(self.layers):
            v, part = layer.inverse(v)
            log_det = log_det + part
        return v, log_det


def make_directions(method: str, nz: int, directions: int, **options) -> DirectionModel:
    """The direction model ``method`` ("linear", "warped" or "curvilinear"); ``options`` go to
    its constructor (those it does not take are ignored)."""
    if method == "linear":
        return LinearDirections(nz, directions)
    if method == "warped":
        keys = ("dipoles", "euler_steps")
        return WarpedDirections(nz, directions, **{k: v for k, v in options.items() if k in keys})
    if method == "curvilinear":
        keys = ("couplings", "hidden")
        return CurvilinearDirections(nz, directions, **{k: v for k, v in options.items() if k in keys})
    raise ValueError(f"unknown direction method {method!r} (choose from {', '.join(METHODS)})")


class Reconstructor(nn.Module):
    """Voynov and Babenko's reconstructor: sees G(z) and G(z') side by side (channels stacked) and
    predicts which direction was taken (K logits) and how far (one number)."""

    def __init__(self, channels: int, image_size: int, directions: int, width: int = 32):
        super().__init__()
        layers: list[nn.Module] = []
        c_in, size = 2 * channels, image_size
        for c_out in (width, 2 * width, 4 * width):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, True)]
            c_in, size = c_out, size // 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Sequential(nn.Linear(c_in * size * size, 256), nn.LeakyReLU(0.2, True),
                                  nn.Linear(256, directions + 1))

    def forward(self, before: torch.Tensor, after: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(self.features(torch.cat([before, after], dim=1)))
        return out[:, :-1], out[:, -1]
