"""The prediction's fit, leave-one-out error and Little's law sizing (no timing)."""

import pytest

from capacity.search.fit import Point, best_fit, fit, offered_rps, predict


def knees(noise=(0.0, 0.03, -0.02, 0.01, -0.03, 0.02)):
    """Six knees on rps = 8,000 x total CPU + 40, with a few percent of noise, 1 and 2 replicas."""
    cells = [(1, 0.05), (1, 0.1), (1, 0.25), (2, 0.05), (2, 0.1), (2, 0.25)]
    return [Point(r, c, (8000 * r * c + 40) * (1 + n), 300.0, f"{r}x{c}")
            for (r, c), n in zip(cells, noise, strict=True)]


def test_fit_recovers_the_line_and_scores_it_on_held_out_knees():
    f = fit(knees(), "total")
    assert f.coef[0] == pytest.approx(8000, rel=0.05)
    assert f.loo_mean_pct is not None and 0 < f.loo_mean_pct < 6
    assert len(f.loo) == 6 and f.loo_max_pct >= f.loo_mean_pct
    assert "leave-one-out" in f.describe()


def test_best_fit_prefers_the_smaller_error_and_needs_a_knee():
    assert best_fit(knees()).loo_mean_pct <= fit(knees(), "per_replica").loo_mean_pct
    with pytest.raises(ValueError):
        best_fit([])


def test_a_fixed_cpu_cost_per_request_is_the_proportional_model():
    points = [Point(p.replicas, p.cpus, p.rps - 40, 300.0, p.label) for p in knees()]
    f = best_fit(points)
    assert f.model == "proportional" and f.coef[0] == pytest.approx(8000, rel=0.05)
    assert f.describe().startswith("req/s = 8,") and "x total CPU (6 knees" in f.describe()
    assert fit(points[:2], "proportional").loo_mean_pct is not None  # one knee left out of two still scores


def test_littles_law_and_the_cheapest_predicted_deployment():
    assert offered_rps(10_000, 1.75, 0.0) == pytest.approx(5714.3, rel=1e-3)  # README's ~5,700 req/s
    points = knees((0,) * 6)
    f = fit(points, "total")
    p = predict(f, points, 10_000, 1.75, [1, 2, 4], cpu_step=0.05, max_cpus=1.0)
    assert p.offered_rps == pytest.approx(10_000 / 2.05)
    assert p.predicted_rps >= p.offered_rps
    assert (p.replicas, p.cpus) == (1, 0.65)  # 0.6 CPU -> 4,840 req/s < 4,878
    assert p.workers == 5
    assert predict(f, points, 10_000, 1.75, [1], max_cpus=0.5) is None  # out of reach of one half-core replica
