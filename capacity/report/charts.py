"""PNG charts with matplotlib (Agg, no display): per configuration, and over time per cell."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

if TYPE_CHECKING:
    from capacity.core.records import CellRecord

COLORS = {"pass": "tab:green", "fail": "tab:red", "invalid": "tab:gray"}


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "N/A") else None
    except ValueError:
        return None


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


def history(cell_dir: Path) -> list[dict]:
    """Locust's aggregated history rows: seconds since start, users, RPS, p50 and p95 (rolling window)."""
    files = sorted(cell_dir.glob("*_stats_history.csv"))
    if not files:
        return []
    with open(files[0], newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("Name") == "Aggregated"]
    if not rows:
        return []
    start = int(rows[0]["Timestamp"])
    return [{"t": int(r["Timestamp"]) - start, "users": int(r["User Count"]), "rps": _num(r["Requests/s"]),
             "p50": _num(r.get("50%")), "p95": _num(r.get("95%"))} for r in rows]


def timeline(cell_dir: Path, title: str, bound: float) -> Path | None:
    points = history(cell_dir)
    if not points:
        return None
    t = [p["t"] for p in points]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(t, [p["p95"] for p in points], label="p95 (ms)", color="tab:red")
    ax.plot(t, [p["p50"] for p in points], label="p50 (ms)", color="tab:orange")
    ax.axhline(bound, color="black", linestyle="--", linewidth=1, label=f"SLO p95 {bound:g} ms")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("latency (ms)")
    users = ax.twinx()
    users.plot(t, [p["users"] for p in points], label="users", color="tab:blue")
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
