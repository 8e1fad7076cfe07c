"""results/bench/<stamp>.md, .csv and .png from one run's measurements."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from bench import chart
from bench.deployed import Deployed, deployed_lines, write_deployed_csv
from bench.image import ImageSize
from bench.profile import Profile
from bench.run import Measurement, Plan
from bench.targets import Check

CSV_FIELDS = ["variant", "label", "connections", "ours_over_this", "rps", "rps_min", "rps_max", "p50_ms", "p90_ms",
              "p99_ms", "max_ms", "requests", "status_errors", "socket_errors", "rps_1conn", "p50_ms_1conn",
              "p90_ms_1conn", "p99_ms_1conn",
              "rss_mb", "cpu_us_per_request", "ready_s", "image_mb", "image_added_mb", "predictions_match", "notes",
              "error"]
CPU_NOTE = ("Server CPU us/req: user + system CPU time of the server's process tree (from /proc) during the "
            "loaded run, divided by the requests it answered. Unlike requests/s it does not count time the server "
            "waited for a core, so it moves less when other work shares the machine.")
RSS_NOTE = ("RSS is summed over the server's process tree from /proc after both wrk runs (for `mlflow models "
            "serve` that includes the `mlflow` CLI process waiting on its uvicorn child, as a container would count "
            "it). Ready is process start to the first 200 on the readiness URL, polled every 50 ms.")


@dataclass(frozen=True)
class Run:
    stamp: str
    smoke: bool
    plan: Plan
    machine: dict[str, str]
    conditions: dict[str, str]
    rows: list[Measurement]
    checks: list[Check]
    image: ImageSize
    profile: Profile | str | None
    deployed: Deployed | str | None = None

    def ours_over(self, row: Measurement) -> float | None:
        """Our requests/s over this variant's (same core, same load, same run)."""
        ours = next((r for r in self.rows if r.key == "ours" and r.loaded), None)
        return ours.loaded.rps / row.loaded.rps if ours and row.loaded and row.loaded.rps else None

    def match(self, row: Measurement) -> str:
        """Did it predict our species for every check row? ("n/a" for the ceiling, which has no model)."""
        ours = next((r for r in self.rows if r.key == "ours"), None)
        if row.key == "ceiling" or row.predictions is None or ours is None or ours.predictions is None:
            return "n/a"
        return "yes" if row.predictions == ours.predictions else "NO"


def _n(value: float | None, fmt: str = "{:.2f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def write_csv(run: Run, path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for r in run.rows:
            lo, one = r.loaded, r.single
            ours = r.key == "ours"
            writer.writerow({
                "variant": r.key, "label": r.label, "connections": run.plan.connections,
                "ours_over_this": _n(run.ours_over(r), "{:.2f}") if r.loaded else "",
                "predictions_match": run.match(r), "notes": r.notes,
                "rps": lo and round(lo.rps, 1), "rps_min": r.rps_spread and round(r.rps_spread[0], 1),
                "rps_max": r.rps_spread and round(r.rps_spread[1], 1), "p50_ms": lo and round(lo.p50_ms, 3),
                "p90_ms": lo and round(lo.p90_ms, 3), "p99_ms": lo and round(lo.p99_ms, 3),
                "max_ms": lo and round(lo.max_ms, 3), "requests": lo and lo.requests,
                "status_errors": lo and lo.status_errors, "socket_errors": lo and lo.socket_errors,
                "rps_1conn": one and round(one.rps, 1), "p50_ms_1conn": one and round(one.p50_ms, 3),
                "p90_ms_1conn": one and round(one.p90_ms, 3), "p99_ms_1conn": one and round(one.p99_ms, 3),
                "rss_mb": r.rss_mb and round(r.rss_mb, 1),
                "cpu_us_per_request": r.cpu_us_per_request and round(r.cpu_us_per_request, 2),
                "ready_s": r.ready_s and round(r.ready_s, 3),
                "image_mb": _n(run.image.size_mb, "{:.0f}") if ours else "",
                "image_added_mb": _n(run.image.added_mb, "{:.0f}") if ours else "", "error": r.error or "",
            })


def _results_table(run: Run) -> list[str]:
    c = run.plan.connections
    lines = [f"| variant | req/s ({c} conn) | lowest-highest | ours / this | p50 ms | p90 ms | p99 ms | max ms "
             "| errors (>=400 / socket) | req/s (1 conn) | p50 ms (1 conn) | p99 ms (1 conn) | RSS MB after load "
             "| server CPU us/req | ready s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in run.rows:
        if r.loaded is None or r.single is None:
            lines.append(f"| {r.label} | failed: {r.error} |" + " |" * 13)
            continue
        lo, one = r.loaded, r.single
        errors = f"{lo.status_errors + one.status_errors} / {lo.socket_errors + one.socket_errors}"
        spread = f"{r.rps_spread[0]:,.0f}-{r.rps_spread[1]:,.0f}" if r.rps_spread else "-"
        lines.append(f"| {r.label} | {lo.rps:,.0f} | {spread} | {_n(run.ours_over(r), '{:,.1f}x')} | {lo.p50_ms:.2f} | "
                     f"{lo.p90_ms:.2f} | {lo.p99_ms:.2f} | "
                     f"{lo.max_ms:.1f} | {errors} | {one.rps:,.0f} | {one.p50_ms:.2f} | {one.p99_ms:.2f} | "
                     f"{_n(r.rss_mb, '{:.0f}')} | {_n(r.cpu_us_per_request, '{:.1f}')} | {_n(r.ready_s)} |")
    return lines


def _setup_table(run: Run) -> list[str]:
    lines = ["| variant | how it was run | predicts our species on every check row |", "|---|---|---|"]
    return lines + [f"| {r.label} | {r.notes or '-'} | {run.match(r)} |" for r in run.rows]


def _targets_table(run: Run) -> list[str]:
    lines = ["| target | measured | bar | status | by how much |", "|---|---:|---:|---|---|"]
    lines += [f"| {c.target} | {c.measured} | {c.bar} | **{c.status}** | {c.margin} |" for c in run.checks]
    return lines


def _locust_section(run: Run) -> list[str]:
    ours = next((r for r in run.rows if r.key == "ours"), None)
    if ours is None or ours.locust is None:
        return ["No Locust cross-check in this run."]
    lo, wrk_rps = ours.locust, ours.loaded.rps if ours.loaded else None
    return [f"Locust FastHttpUser, {lo.connections} users, {run.plan.locust_duration:.0f} s, headless, pinned like "
            f"wrk, against our API: {lo.rps:,.0f} req/s, p50 {lo.p50_ms:.0f} ms, p90 {lo.p90_ms:.0f} ms, "
            f"p99 {lo.p99_ms:.0f} ms, {lo.requests} requests, {lo.status_errors} failures. "
            f"(wrk measured {_n(wrk_rps, '{:,.0f}')} req/s: Locust's one core limits what it can send, so it "
            "checks correctness under load and the order of magnitude, not the peak.)"]


def _profile_section(run: Run) -> list[str]:
    if run.profile is None:
        return ["Not profiled in this run (`python -m bench --profile` records py-spy under load)."]
    if isinstance(run.profile, str):
        return [run.profile]
    lines = [f"py-spy, our API under {run.plan.connections} connections for {run.plan.duration:.0f} s (a separate "
             f"run, not one of the measurements): flamegraph `{run.profile.svg.name}`, collapsed stacks "
             f"`{run.profile.raw.name}`. Functions by own time (top of stack), as `py-spy top` shows them:", "",
             "| function | % own | % total |", "|---|---:|---:|"]
    lines += [f"| `{name}` | {own:.1f} | {total:.1f} |" for name, own, total in run.profile.top]
    if run.profile.layers:
        lines += ["", "Where the time goes, by the package on top of the stack (own samples). The bare-ASGI ceiling "
                  "runs the same uvicorn and event loop with no work per request, so our API's own layers are the "
                  "gap to it: " + "; ".join(f"{name} {pct:.0f}%" for name, pct in run.profile.layers) + "."]
    return lines


def write_markdown(run: Run, path: Path, csv_name: str, png_name: str) -> None:
    kind = "smoke run (short, few connections: not the bar)" if run.smoke else "full run"
    lines = [f"# Benchmark {run.stamp}: {kind}", ""]
    lines += [f"- **{k}**: {v}" for k, v in {**run.machine, **run.conditions}.items()]
    lines += ["", "## Results", "", *_results_table(run), "", f"Raw figures: `{csv_name}`; chart: `{png_name}`.",
              "", f"![benchmark]({png_name})", "", "## How each server ran", "", *_setup_table(run), "",
              "## Deployed path: through the lb (nginx) and straight to the replica", "",
              *deployed_lines(run.deployed, run.plan), "", "## Targets (ratios measured in this run)", "",
              *_targets_table(run), "", CPU_NOTE, "", RSS_NOTE, "", "## Image size", "", _image_line(run.image), "",
              "## Locust cross-check", "", *_locust_section(run), "", "## Profile", "", *_profile_section(run), ""]
    path.write_text("\n".join(lines))


def _image_line(image: ImageSize) -> str:
    if image.added_mb is None:
        return f"`{image.image}`: {image.note}"
    return (f"`{image.image}`: {image.size_mb:.0f} MB, base python:3.11-slim-bookworm {image.base_mb:.0f} MB, "
            f"added {image.added_mb:.0f} MB (`docker image inspect` sizes, uncompressed).")


def write_all(run: Run, outdir: Path) -> dict[str, Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    name = f"{run.stamp}-smoke" if run.smoke else run.stamp
    paths = {"md": outdir / f"{name}.md", "csv": outdir / f"{name}.csv", "png": outdir / f"{name}.png"}
    write_csv(run, paths["csv"])
    if isinstance(run.deployed, Deployed):
        paths["deployed"] = outdir / f"{name}-deployed.csv"
        write_deployed_csv(run.deployed, run.plan.connections, paths["deployed"])
    chart.draw(run.rows, run.plan.connections, paths["png"], f"{name}: one core per server, wrk on another")
    write_markdown(run, paths["md"], paths["csv"].name, paths["png"].name)
    return paths
