"""Closed-loop dynamics on maps whose answers are known: fixed points, cycles, chaos."""

import math

import numpy as np
import pytest
import torch

from studio.ml.analysis.dynamics import (
    APERIODIC,
    CHAOTIC,
    DIVERGED,
    FIXED_POINT,
    LIMIT_CYCLE,
    class_counts,
    classify,
    iterate,
    pca_projection,
    return_map,
)

C = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)


def contraction(z):
    return 0.5 * z + C


def rotation(angle, kept=0.5):
    """Rotate by ``angle`` and pull the radius toward 1, keeping ``kept`` of its distance:
    r -> 1 + kept * (r - 1). (Test maps use few ops: inside a JVP each op costs ~0.3 ms.)"""
    return lambda z: (z @ turn(angle)) * (kept + (1 - kept) / z.norm(dim=1, keepdim=True))


def turn(angle):
    """z @ turn(angle) rotates the rows of z by ``angle``."""
    cos, sin = math.cos(angle), math.sin(angle)
    return torch.tensor([[cos, sin], [-sin, cos]], dtype=torch.float64)


def logistic(r=4.0):
    return lambda z: r * z * (1.0 - z)


def fixed_point_or_cycle(z):
    """Bistable: |z|^2 < 1 falls into the origin (Jacobian 0.75 * rotation), |z|^2 > 1 onto the
    circle of radius 2, where the 2*pi/3 rotation makes a period-3 cycle. Smooth in |z|^2."""
    s = (z * z).sum(dim=1, keepdim=True)
    return (z @ turn(2 * math.pi / 3)) * (1 + (s - 1) * (4 - s) / 16)


def scaled(map_fn, s):
    """The same dynamics drawn s times larger: s F(z / s)."""
    return lambda z: s * map_fn(z / s)


def ring_starts(n, radii, seed=0):
    g = torch.Generator().manual_seed(seed)
    angle = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    radius = radii[0] + (radii[1] - radii[0]) * torch.rand(n, generator=g, dtype=torch.float64)
    return torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)


@pytest.mark.parametrize("s", [0.1, 1.0, 10.0])
def test_contraction_has_a_stable_fixed_point_refined_exactly(s):
    f = scaled(contraction, s)
    z0 = torch.randn(6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * s
    traj = iterate(f, z0, 40)
    orbits = classify(traj, f)
    assert [o.kind for o in orbits] == [FIXED_POINT] * 6
    fp = orbits[0].fixed_point
    assert all(o.fixed_point is fp for o in orbits)  # one attractor, refined once
    assert np.allclose(fp.point, 2 * s * C.numpy(), rtol=0, atol=1e-12 * s)
    assert fp.spectral_radius == pytest.approx(0.5, abs=1e-9) and fp.stable and fp.converged
    assert orbits[0].period == 1 and orbits[0].lyapunov == pytest.approx(math.log(0.5), abs=1e-9)


@pytest.mark.parametrize(("period", "s"), [(5, 1.0), (3, 1.0), (7, 1.0), (5, 10.0), (5, 0.1)])
def test_rotation_onto_the_circle_is_a_cycle_of_its_period(period, s):
    f = scaled(rotation(2 * math.pi / period), s)
    traj = iterate(f, s * ring_starts(8, (0.3, 2.0)), 80, lyapunov=s == 1.0)  # LLE: slow, once
    orbits = classify(traj, f)
    assert {(o.kind, o.period) for o in orbits} == {(LIMIT_CYCLE, period)}
    if s == 1.0:  # on the circle the rotation is an isometry: LLE 0
        assert all(abs(o.lyapunov) < 1e-6 for o in orbits)


def test_irrational_rotation_is_aperiodic_not_a_long_cycle():
    golden = math.pi * (3 - math.sqrt(5))
    orbits = classify(iterate(rotation(golden), ring_starts(4, (0.5, 1.5)), 80))
    assert {o.kind for o in orbits} == {APERIODIC}


@pytest.mark.parametrize(("r", "period"), [(3.2, 2), (3.5, 4)])
def test_logistic_map_below_chaos_settles_on_an_attracting_cycle(r, period):
    orbits = classify(iterate(logistic(r), torch.tensor([[0.1], [0.3], [0.6]]), 120))
    assert {(o.kind, o.period) for o in orbits} == {(LIMIT_CYCLE, period)}
    assert all(o.lyapunov < 0 for o in orbits)


def test_logistic_map_at_r4_is_chaotic_with_lle_ln2():
    z0 = torch.linspace(0.1, 0.9, 32, dtype=torch.float64).reshape(-1, 1) + 1e-3
    traj = iterate(logistic(), z0, 600)
    assert ((traj.states > 0) & (traj.states < 1)).all()  # never fell onto 0.5 -> 1 -> 0
    orbits = classify(traj, tail=500)
    assert {o.kind for o in orbits} == {CHAOTIC}
    # log|f'| has a standard deviation of ~0.9 along the orbit, so one trajectory's 500-step mean
    # is ln 2 +- ~0.04, and the mean of 32 trajectories ln 2 +- ~0.007
    lle = np.array([o.lyapunov for o in orbits])
    assert lle.mean() == pytest.approx(math.log(2), abs=0.03)
    assert np.abs(lle - math.log(2)).max() < 0.15


def test_lle_of_a_diagonal_linear_map_is_log_of_its_largest_factor():
    a = torch.tensor([0.9, -0.5, 0.3, 0.1], dtype=torch.float64)
    traj = iterate(lambda z: z * a, torch.ones(5, 4, dtype=torch.float64), 100)
    expected = torch.full((5,), math.log(0.9), dtype=torch.float64)
    assert torch.allclose(traj.lyapunov(), expected, rtol=0, atol=1e-9)


def test_bistable_map_gives_counts_per_class():
    starts = torch.cat([ring_starts(5, (0.2, 0.8)), ring_starts(7, (1.3, 2.3), seed=1)])
    traj = iterate(fixed_point_or_cycle, starts, 100)
    orbits = classify(traj, fixed_point_or_cycle)
    counts = {FIXED_POINT: 5, LIMIT_CYCLE: 7, CHAOTIC: 0, APERIODIC: 0, DIVERGED: 0}
    assert class_counts(orbits) == counts
    assert [o.period for o in orbits[5:]] == [3] * 7
    origin = orbits[0].fixed_point
    assert np.abs(origin.point).max() < 1e-12 and origin.spectral_radius == pytest.approx(0.75)


def test_an_unbounded_trajectory_is_diverged():
    traj = iterate(lambda z: z * z + 1, torch.tensor([[2.0], [0.0]]), 20, lyapunov=False)
    orbits = classify(traj)
    assert [o.kind for o in orbits] == [DIVERGED, DIVERGED]


def test_unstable_fixed_point_is_found_with_its_spectral_radius():
    # started exactly on the logistic map's fixed point 3/4, where |f'| = 2
    f = logistic()
    orbits = classify(iterate(f, torch.tensor([[0.75]]), 10), f)
    assert orbits[0].kind == FIXED_POINT
    fp = orbits[0].fixed_point
    assert fp.spectral_radius == pytest.approx(2.0) and not fp.stable and fp.residual < 1e-15


def test_runs_in_float64_from_float32_and_rejects_a_float32_map():
    traj = iterate(contraction, torch.zeros(2, 3, dtype=torch.float32), 5)
    assert traj.states.dtype == torch.float64 and traj.log_growth.dtype == torch.float64
    with pytest.raises(ValueError, match="float64"):
        iterate(lambda z: z.float(), torch.zeros(2, 3), 5)


def test_progress_and_cancel():
    calls = []
    progress = lambda done, total: calls.append((done, total))  # noqa: E731
    traj = iterate(contraction, torch.zeros(2, 3), 300, lyapunov=False, progress=progress)
    assert calls[-1] == (300, 300) and len(calls) == 100 and not traj.cancelled
    stop = iter([False] * 7 + [True])
    traj = iterate(contraction, torch.zeros(2, 3), 300, cancelled=lambda: next(stop))
    assert traj.cancelled and traj.steps == 7 and traj.log_growth.shape == (7, 2)


def test_works_under_inference_mode():
    with torch.inference_mode():
        traj = iterate(logistic(), torch.full((3, 1), 0.3), 50)
    assert torch.isfinite(traj.log_growth).all()


def test_pca_projection_is_fitted_on_all_visited_states():
    traj = iterate(rotation(2 * math.pi / 5), ring_starts(4, (0.5, 1.5)), 40, lyapunov=False)
    plane = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    lifted = (traj.states @ plane + 5.0).numpy()  # the orbits, on a tilted plane in 3-D
    projection = pca_projection(lifted)
    flat = projection(lifted)
    assert projection.components.shape == (2, 3) and flat.shape == (41, 4, 2)
    assert projection.explained_variance_ratio.sum() == pytest.approx(1.0)
    # the data lie in a plane, so two components keep every distance
    pairs = lambda points: np.linalg.norm(points[:, None] - points[None], axis=-1)  # noqa: E731
    assert np.allclose(pairs(flat.reshape(-1, 2)), pairs(lifted.reshape(-1, 3)))
    assert pca_projection(traj.states[:, :, :1]).components.shape == (1, 1)  # 1-D: one component


def test_return_map_pairs_consecutive_values():
    traj = iterate(logistic(), torch.tensor([[0.2], [0.7]]), 30, lyapunov=False)
    x, x_next = return_map(traj, 0, start=5)
    assert x.shape == x_next.shape == (25, 2)
    assert np.allclose(x_next, 4 * x * (1 - x))
    projection = pca_projection(traj.states)  # 1-D: the component is +x, so PC1 = x - mean
    pc, pc_next = return_map(traj, 0, projection=projection, start=5)
    assert np.allclose(pc, x - projection.mean) and np.allclose(pc_next, x_next - projection.mean)
