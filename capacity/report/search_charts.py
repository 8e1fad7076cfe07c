"""Charts of `redline` and `find` runs (matplotlib, Agg): each with a title, axis units and the run it shows.

- capacity_vs_cpu.png: delivered req/s at the knee against total API CPU, knees vs lower bounds, and the fit;
- headroom.png: N / knee users per configuration (how many of it N users need);
- cost_vs_p95.png (find): every cell measured at N users, total CPU reserved against p95, the Pareto front.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from capacity.core.find_result import Measurement  # noqa: E402
from capacity.core.knee_record import ConfigurationKnee  # noqa: E402
from capacity.search.fit import Fit  # noqa: E402

COLORS = {"pass": "tab:green", "fail": "tab:red", "invalid": "tab:gray"}
MARKERS = {1: "o", 2: "s", 3: "D", 4: "^"}


def _save(fig, ax, title: str, run: str, path: Path) -> str:
    ax.set_title(f"{title}\nrun {run}", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def capacity_vs_cpu(configs: list[ConfigurationKnee], fit: Fit | None, run: str, path: Path) -> str:
    fig, ax = plt.subplots(figsize=(8, 5))
    for c in configs:
        if not c.rps:
            continue
        knee = c.kind == "knee"
        ax.scatter(c.total_cpus, c.rps, marker=MARKERS.get(c.replicas, "o"), s=50,
                   facecolors="tab:blue" if knee else "none", edgecolors="tab:blue")
        ax.annotate(f"{c.replicas}x{c.cpus:g}{'' if knee else ' (>=)'}", (c.total_cpus, c.rps),
                    fontsize=7, xytext=(4, 4), textcoords="offset points")
    bounds = sorted(c.rps for c in configs if c.kind == "lower bound" and c.rps)
    if len(bounds) >= 2:  # lower bounds that cluster at one rate: what the generator here could deliver
        ax.axhline(bounds[len(bounds) // 2], color="tab:gray", linestyle=":", linewidth=1,
                   label=f"median lower bound, {bounds[len(bounds) // 2]:,.0f} req/s: where this machine's "
                         "generator or host ran out")
    if fit is not None:
        top = max([c.total_cpus for c in configs] + [0.1]) * 1.1
        for r in sorted({c.replicas for c in configs}) if fit.model == "per_replica" else [1]:
            xs = [top * i / 50 for i in range(51)]
            ax.plot(xs, [fit.predict(x, r) for x in xs], linestyle="--", linewidth=1,
                    label=f"fit{f' ({r} replica(s))' if fit.model == 'per_replica' else ''}: {fit.describe()}")
    if fit is not None or len(bounds) >= 2:
        ax.legend(fontsize=6, loc="upper left")
    ax.set_xlabel("total API CPU (cores, CPU per replica x replicas)")
    ax.set_ylabel("delivered load at the knee (req/s)")
    return _save(fig, ax, "Capacity against CPU (filled: knee; hollow: lower bound, never fitted)", run, path)


def headroom(configs: list[ConfigurationKnee], users: int, run: str, path: Path) -> str:
    shown = [c for c in configs if c.users]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(shown) + 2), 4.5))
    ax.bar([c.label for c in shown], [users / c.users for c in shown],
           color=["tab:blue" if c.kind == "knee" else "tab:gray" for c in shown])
    ax.axhline(1, color="black", linestyle="--", linewidth=1, label="1 = holds N on its own")
    ax.set_ylabel(f"N / knee users (N = {users:,})")
    ax.set_xlabel("configuration (grey: knee is a lower bound, so the ratio is an upper bound)")
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax.legend(fontsize=8)
    return _save(fig, ax, f"Headroom at {users:,} users: how many of each configuration they need", run, path)


def pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (cost, p95) points no other point beats on both, cheapest first."""
    front, best = [], float("inf")
    for cost, p95 in sorted(points):
        if p95 < best:
            front.append((cost, p95))
            best = p95
    return front


def cost_vs_p95(log: list[Measurement], users: int, bound: float, run: str, path: Path) -> str:
    """Filled: the replicas' CPU reserved; hollow, to its right: plus the CPU the lb used in that cell (the lb is
    part of the deployment: at 10,000 users it used 0.27-0.36 core beside 0.8 reserved). The Pareto front is
    drawn on the deployment's cost, the lb included where it was measured."""
    fig, ax = plt.subplots(figsize=(8, 5))
    passing, with_lb = [], False
    for entry in log:
        step, cell = entry.step or {}, entry.cell
        if step.get("p95_ms") is None:
            continue
        color, p95, lb = COLORS.get(entry.status, "tab:blue"), step["p95_ms"], step.get("lb_cpu_cores")
        ax.scatter(cell.total_cpus, p95, color=color, s=40)
        ax.annotate(f"{cell.replicas}x{cell.cpus:g}", (cell.total_cpus, p95), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
        cost = cell.total_cpus
        if lb is not None:
            with_lb, cost = True, cell.total_cpus + lb
            ax.plot([cell.total_cpus, cost], [p95, p95], color=color, linewidth=0.6, alpha=0.5)
            ax.scatter(cost, p95, facecolors="none", edgecolors=color, s=40)
        if entry.status == "pass":
            passing.append((cost, p95))
    front = pareto(passing)
    if front:
        ax.step([f[0] for f in front], [f[1] for f in front], where="post", color="tab:green",
                label="Pareto front" + (" (replicas reserved + lb used)" if with_lb else ""))
    if with_lb:
        ax.scatter([], [], facecolors="none", edgecolors="grey", s=40, label="+ the lb's CPU used in that cell")
    ax.axhline(bound, color="black", linestyle="--", linewidth=1, label=f"SLO p95 {bound:g} ms")
    ax.set_yscale("log")
    ax.set_xlabel("cost: API CPU reserved, filled" + (" / + lb CPU used, hollow" if with_lb else "")
                  + " (cores; memory per replica is the same in every cell)")
    ax.set_ylabel("p95 latency at N users (ms, log scale)")
    ax.legend(fontsize=8)
    return _save(fig, ax, f"Cost against p95 at {users:,} users (green pass, red fail, grey invalid)", run, path)
