"""PNG charts with matplotlib (Agg, no display): per configuration, and over time per cell."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from capacity.measure.steps import history_file, read_history  # noqa: E402

if TYPE_CHECKING:
    from capacity.core.records import CellRecord

COLORS = {"pass": "tab:green", "fail": "tab:red", "invalid": "tab:gray"}


def _bars(records: list[CellRecord], key: str, title: str, ylabel: str, path: Path, bound: float | None = None) -> None:
    labels = [r.cell.slug for r in records]
    values = [getattr(r.metrics, key) or 0 for r in records]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(records) + 2), 4.5))
    ax.bar(labels, values, color=[COLORS.get(r.status, "tab:blue") for r in records])
    if bound is not None:
        ax.axhline(bound, color="black", linestyle="--", linewidth=1, label=f"SLO {bound:g}")
        ax.legend()
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def timeline(cell_dir: Path, title: str, bound: float) -> Path | None:
    rows = read_history(history_file(cell_dir))
    if not rows:
        return None
    t = [r.t - rows[0].t for r in rows]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(t, [r.p95 for r in rows], label="p95 (ms)", color="tab:red")
    ax.plot(t, [r.p50 for r in rows], label="p50 (ms)", color="tab:orange")
    ax.axhline(bound, color="black", linestyle="--", linewidth=1, label=f"SLO p95 {bound:g} ms")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("latency (ms)")
    users = ax.twinx()
    users.plot(t, [r.users for r in rows], label="users", color="tab:blue")
    users.set_ylabel("users")
    lines = ax.get_legend_handles_labels()[0] + users.get_legend_handles_labels()[0]
    ax.legend(lines, [ln.get_label() for ln in lines], loc="upper left", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    path = cell_dir / "timeline.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def draw_all(run_dir: Path, records: list[CellRecord], p95_bound: float) -> list[str]:
    """Configuration charts at the top of the run, a timeline in each cell folder; paths relative to run_dir."""
    made = []
    if records:
        _bars(records, "rps_mean", "Throughput per configuration (mean req/s; green pass, red fail, grey invalid)",
              "requests/s", run_dir / "throughput.png")
        _bars(records, "p95_ms", "p95 latency per configuration", "ms", run_dir / "p95.png", bound=p95_bound)
        made += ["throughput.png", "p95.png"]
    for record in records:
        cell_dir = run_dir / record.cell.slug
        path = timeline(cell_dir, f"{record.cell.label}: {record.status}", p95_bound)
        if path is not None:
            made.append(str(path.relative_to(run_dir)))
    return made
