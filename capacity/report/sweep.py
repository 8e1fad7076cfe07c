"""The run's answer and tables: summary.csv, summary.md (answer in one line at the top) and the charts."""

from __future__ import annotations

import csv
from pathlib import Path

from capacity.campaign.run import read_run
from capacity.core.provenance import ROOT
from capacity.core.records import CELL_JSON, CellRecord
from capacity.core.status import PASS
from capacity.measure.cost import bench_reference

COLUMNS = ("slug", "cpus", "memory", "replicas", "processes", "status", "reason", "rps_max", "rps_mean",
           "latency_mean_ms", "p50_ms", "p95_ms", "p99_ms", "users_reached", "requests", "failures",
           "failures_per_s", "error_pct", "api_cpu_peak_pct", "api_cpu_mean_pct", "api_mem_peak_mb",
           "lb_cpu_peak_pct", "generator_cpu_peak_pct", "oom_killed", "restarts")
# From the cgroups (measure/cost.py): in runs that measured them (docker backend, since 2026-12-06) only, so
# earlier runs re-render as they were.
COST_COLUMNS = ("api_cpu_cores", "api_requests", "api_us_per_request", "api_idle_cores", "api_throttled_share",
                "api_throttled_s", "lb_cpu_cores", "lb_requests", "lb_us_per_request", "lb_idle_cores")


def has_cost(records: list[CellRecord]) -> bool:
    return any(r.metrics.api_us_per_request is not None for r in records)


def load_records(run_dir: Path) -> list[CellRecord]:
    """Every finished cell of a run, in sweep order."""
    records = [CellRecord.read(path.parent) for path in sorted(run_dir.glob(f"*/{CELL_JSON}"))]
    return sorted((r for r in records if r.finished), key=lambda r: r.cell.index)


def cheapest_passing(records: list[CellRecord]) -> CellRecord | None:
    """The passing cell with the least CPU x replicas, then the least memory x replicas, then fewer processes."""
    passing = [r for r in records if r.status == PASS]
    return min(passing, key=lambda r: r.cell.to_cell().cost(), default=None)


def flat_row(record: CellRecord, columns: tuple[str, ...] = COLUMNS) -> dict:
    row = record.cell.model_dump(include={"slug", "cpus", "memory", "replicas", "processes"})
    row |= {"status": record.status, "reason": record.reason}
    return row | {k: getattr(record.metrics, k) for k in columns if k not in row}


def write_csv(path: Path, records: list[CellRecord]) -> None:
    columns = COLUMNS + (COST_COLUMNS if has_cost(records) else ())
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(flat_row(r, columns) for r in records)


def _f(value, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:,.{digits}f}{unit}"
    return str(value)


def answer_line(records: list[CellRecord], run: dict) -> str:
    best = cheapest_passing(records)
    users = run["grid"]["load"]["users"]
    if best is None:
        judged = len(records)
        return (f"**Answer: no configuration held {users:,} users within the SLO** "
                f"({judged} cell(s) judged; see the reasons below).")
    m = best.metrics
    return (f"**Answer: the cheapest configuration that holds {users:,} users is {best.cell.label}** "
            f"({best.cell.to_cell().total_cpus:g} CPU in total; p95 {_f(m.p95_ms)} ms, "
            f"{_f(m.rps_mean, 1)} req/s mean, {m.failures} failures).")


def hosts_label(hosts: dict[str, int]) -> str:
    """Locust workers per host, e.g. 'hostb 1, hostc 1, local 1' ('-' when not recorded)."""
    return ", ".join(f"{host} {n}" for host, n in sorted(hosts.items())) or "-"


def _table(records: list[CellRecord]) -> list[str]:
    """One row per cell; a Locust-workers-per-host column once any cell had workers on other hosts, the cgroup
    cost columns once any cell measured them."""
    remote = any(set(r.metrics.generator_hosts) - {"local"} for r in records)
    cost = has_cost(records)
    cost_head = ("API us/req", "LB us/req", "API cores", "LB cores", "API idle cores", "throttled") if cost else ()
    head = ("configuration", "RPS max", "RPS mean", "latency mean (ms)", "p95 (ms)", "p99 (ms)", "users",
            "failures/s", "API CPU peak (%)", "API mem peak (MiB)", "LB CPU peak (%)", "generator CPU (%)",
            *cost_head, *(["Locust workers per host"] if remote else []), "status", "reason")
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (11 + len(cost_head)) + "|---" * (2 + remote) + "|"]
    for r in records:
        m = r.metrics
        status = r.status.upper() if r.status != PASS else "pass"
        cells = (r.cell.label, _f(m.rps_max, 1), _f(m.rps_mean, 1), _f(m.latency_mean_ms, 1), _f(m.p95_ms),
                 _f(m.p99_ms), _f(m.users_reached), _f(m.failures_per_s, 2), _f(m.api_cpu_peak_pct),
                 _f(m.api_mem_peak_mb), _f(m.lb_cpu_peak_pct), _f(m.generator_cpu_peak_pct),
                 *((_f(m.api_us_per_request), _f(m.lb_us_per_request), _f(m.api_cpu_cores, 3), _f(m.lb_cpu_cores, 3),
                    _f(m.api_idle_cores, 4), _f(m.api_throttled_share, 2)) if cost else ()),
                 *([hosts_label(m.generator_hosts)] if remote else []), status, r.reason)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _context(run: dict) -> list[str]:
    g = run["grid"]
    load, slo = g["load"], g["slo"]
    shape = (f"ramp +{load['step_users']} users every {load['step_duration']:g} s, hold {load['hold']:g} s"
             if load["shape"] == "ramp" else f"spawn {load['spawn_rate']:g}/s, {load['duration']:g} s")
    lines = [
        f"- Grid `{g['name']}`, backend `{run['backend']}`, started {run['started_at']}; machine: "
        f"{run['machine']['cpus']} CPU(s), {run['machine']['platform']}; code: "
        f"{run['machine'].get('code', 'not recorded')}.",
        f"- Load: {load['users']:,} users, {shape}, wait {load['wait_min']:g}-{load['wait_max']:g} s per user.",
        f"- SLO: users reached >= {slo['users_ratio'] * load['users']:,.0f}, failures <= {slo['max_failures']}, "
        f"p95 <= {slo['p95_ms']:g} ms; generator CPU > {slo['generator_cpu_pct']:g}% makes a cell invalid.",
        "- CPU % is of one core (200% = two cores); API CPU is summed over replicas, memory is one replica's peak.",
    ]
    if run["backend"] == "docker":
        lines.append(f"- Load balancer fixed at {g['lb']['cpus']:g} CPU / {g['lb']['memory']} in every cell, "
                     "its CPU reported apart (LB column).")
    return lines + [f"- {note}" for note in run.get("notes", [])]


def cost_note(records: list[CellRecord], bench_dir: Path) -> list[str]:
    """What the cost columns mean, with `make bench`'s own figures for the API and the lb beside them."""
    if not has_cost(records):
        return []
    ref = bench_reference(bench_dir)
    bench = (f" `make bench` ({ref['source']}): the API alone {ref['api_us_per_request']:g} us per request on one "
             f"core at 64 connections, the lb {ref.get('lb_us_per_request', '-')} us." if ref else "")
    return ["- us/req: CPU per request from the cgroups over the load (usage / requests the replicas and the lb "
            "counted; measure/cost.py); cores: their mean CPU over it; idle: the replicas' CPU before the load; "
            f"throttled: share of CFS periods throttled.{bench}"]


def write_markdown(path: Path, records: list[CellRecord], run: dict, charts: list[str]) -> None:
    lines = [answer_line(records, run), "", f"# Capacity sweep `{run['grid']['name']}`", "", *_context(run),
             *cost_note(records, ROOT / "results" / "bench"), "", *_table(records), ""]
    missing = run.get("cells_total", len(records)) - len(records)
    if missing > 0:
        lines += [f"{missing} cell(s) not run yet (interrupted); rerun with --out to finish them.", ""]
    lines += [f"![{Path(c).stem}]({c})" for c in charts if "/" not in c]
    timelines = [f"[{Path(c).parent.name}]({c})" for c in charts if "/" in c]
    if timelines:
        lines += ["", "Latency and users over time, per cell: " + ", ".join(timelines)]
    path.write_text("\n".join(lines) + "\n")


def write_report(run_dir: Path) -> list[CellRecord]:
    """(Re)build summary.csv, summary.md and the charts from the cell folders of `run_dir`."""
    from capacity.report import charts

    run = read_run(run_dir)
    records = load_records(run_dir)
    write_csv(run_dir / "summary.csv", records)
    made = charts.draw_all(run_dir, records, run["grid"]["slo"]["p95_ms"])
    write_markdown(run_dir / "summary.md", records, run, made)
    return records
