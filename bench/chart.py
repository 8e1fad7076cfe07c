"""The PNG: requests/s, p99 under load and RSS per variant, side by side (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib


def draw(rows, connections: int, path: Path, title: str) -> None:
    matplotlib.use("Agg")  # no display; chosen here, not at import
    import matplotlib.pyplot as plt

    measured = [r for r in rows if r.loaded is not None]
    labels = [r.label for r in measured]
    panels = [
        (f"requests/s at {connections} connections (log)", [r.loaded.rps for r in measured], True),
        (f"p99 latency at {connections} connections, ms (log)", [r.loaded.p99_ms for r in measured], True),
        ("RSS after load, MB", [r.rss_mb or 0 for r in measured], False),
    ]
    colors = ["#1f77b4" if r.key == "ours" else "#999999" for r in measured]
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
    for ax, (name, values, log) in zip(axes, panels, strict=True):
        bars = ax.bar(labels, values, color=colors)
        if log and values and min(values) > 0:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
        for bar, value in zip(bars, values, strict=True):
            ax.annotate(f"{value:,.0f}" if value >= 10 else f"{value:.2f}", (bar.get_x() + bar.get_width() / 2,
                        bar.get_height()), ha="center", va="bottom", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
