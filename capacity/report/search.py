"""summary.md of `redline` and `find` runs: the answers first, then the tables and the charts."""

from __future__ import annotations

import csv
from pathlib import Path

from capacity.campaign.run import read_run
from capacity.core.find_result import Answer, FindResult, Measurement
from capacity.core.knee_record import ConfigurationKnee
from capacity.report import search_charts
from capacity.search.fit import Fit, offered_rps
from capacity.search.knees import confirm_command, fit_points, knees_and_model
from capacity.search.queueing import QueueingModel

KNEES_CSV = "knees.csv"
KNEE_COLUMNS = ("slug", "replicas", "cpus", "memory", "total_cpus", "total_memory_mb", "repeats", "kind", "users",
                "users_min", "users_max", "rps", "p50_ms", "p95_ms", "p99_ms", "response_ms", "errors",
                "api_cpu_cores_mean", "throttled", "api_mem_peak_mb", "generator_cpu_peak_pct")


def _f(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if isinstance(value, int | float) else str(value)


def _context(run: dict, out: Path) -> list[str]:
    g, m = run["grid"], run["machine"]
    load, slo = g["load"], g["slo"]
    return [f"- Run `{out.name}`: `python -m capacity {run['kind']}`, grid `{g['name']}`, backend `{run['backend']}`, "
            f"started {run['started_at']}; machine {m['cpus']} CPU(s), {m['platform']}; code {m['code']}.",
            f"- Load: think time {load['wait_min']:g}-{load['wait_max']:g} s per user, spawn {load['spawn_rate']:g}/s, "
            f"{load['step_duration' if run['kind'] == 'redline' else 'duration']:g} s per "
            f"{'step' if run['kind'] == 'redline' else 'cell'}; SLO p95 <= {slo['p95_ms']:g} ms, "
            f"failures <= {slo['max_failures']}.",
            "- Validity (loadtest.validity): delivered >= 80% of the offered load (Little's law), no Locust process "
            f"over {slo['generator_cpu_pct']:g}% CPU or waiting for a CPU > 20% of the time. An INVALID "
            "measurement is neither an answer nor a failure. A busy generator alone, with >= 90% of the load "
            "delivered and the SLO met, is a conservative PASS (the latency it met includes Locust's waiting); "
            "delivered short of offered while Locust was not busy is the API falling behind: a FAIL.",
            *[f"- {n}" for n in run.get("notes", [])], *[f"- Resumed {h}" for h in run.get("history", [])]]


def _fit(configs: list[ConfigurationKnee]) -> Fit | None:
    from capacity.search.fit import best_fit

    try:
        return best_fit(fit_points(configs))
    except ValueError:
        return None


def _knee_table(configs: list[ConfigurationKnee], model: QueueingModel | None) -> list[str]:
    """One row per configuration; CPU per request at the knee (measure/cost.py) once any ramp measured it; the
    queueing model's knee, predicted without the configuration's own steps, once any step measured CPU."""
    cost = any(c.api_us_per_request is not None for c in configs)
    held = {h.label: h for h in model.held_out} if model else {}
    head = ("configuration", "repeats", "knee users (median; min-max)",
            *(("queueing model knee (users), held out",) if model else ()), "req/s at knee", "p50 / p95 / p99 (ms)",
            "errors", "API CPU used (cores)", *(("API us/req", "lb us/req") if cost else ()), "throttled",
            "peak RSS (MiB)", "to /ready (s)", "MiB while loading", "kind", "ended by")
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (10 + 2 * cost + bool(model)) + "|---|---|"]
    for c in configs:
        s, h = c.startup, held.get(c.label)
        lines.append("| " + " | ".join((
            c.label, str(c.repeats), f"{_f(c.users)} ({_f(c.users_min)}-{_f(c.users_max)})",
            *((_f(h.predicted_users if h else None),) if model else ()),
            _f(c.rps, 1), f"{_f(c.p50_ms)} / {_f(c.p95_ms)} / {_f(c.p99_ms)}", _f(c.errors),
            _f(c.api_cpu_cores_mean, 2),
            *((_f(c.api_us_per_request), _f(c.lb_us_per_request)) if cost else ()),
            _f(c.throttled, 2) if c.throttled is not None else "not measured",
            _f(c.api_mem_peak_mb), _f(s.get("ready_s"), 1), _f(s.get("peak_mem_mb")), c.kind,
            "<br>".join(c.ended_by))) + " |")
    return lines


def write_redline_report(out: Path) -> list[ConfigurationKnee]:
    run, (configs, model) = read_run(out), knees_and_model(out)
    with open(out / KNEES_CSV, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=KNEE_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(c.as_dict() for c in configs)
    fit, users = _fit(configs), run["params"].get("target_users") or 10_000
    knees = sum(c.kind == "knee" for c in configs)
    head = (f"**Knees: {len(configs)} configuration(s) measured, {knees} real knee(s), "
            f"{len(configs) - knees} lower bound(s) or none.**")
    if fit is not None:
        head += f" Fit: {fit.describe()}."
    if model is not None:
        head += f" Queueing model: {model.describe()}."
    if fit is not None and model is not None and model.loo_mean_pct is not None:
        better = "queueing model" if fit.loo_mean_pct is None or model.loo_mean_pct < fit.loo_mean_pct else "fit"
        head += f" A prediction takes the {better}'s answer (the smaller mean held-out error)."
    charts = [search_charts.capacity_vs_cpu(configs, fit, out.name, out / "capacity_vs_cpu.png"),
              search_charts.headroom(configs, users, out.name, out / "headroom.png")] if configs else []
    lines = [head, "", f"Predict N users from these knees: `python -m capacity find --users {users} --predict "
             f"--knees {out}`", "", f"# Redline `{run['grid']['name']}`", "", *_context(run, out), "",
             "The knee is the last valid step that kept the SLO; it is a lower bound when the ramp ended INVALID "
             "or at max users (then it is shown, never fitted)." + (
                 " The queueing model's knee of each configuration comes from a cost fitted without that "
                 "configuration's steps, rounded down to its ramp's step (capacity/README.md, \"The queueing "
                 "model\")." if model else ""), "", *_knee_table(configs, model), "",
             *[f"![{Path(c).stem}]({c})" for c in charts]]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    return configs


MODEL_NAMES = {"fit": "empirical fit", "queueing": "queueing model"}


def _both_errors(data: FindResult) -> str:
    """Both models' held-out errors, the one that answered first."""
    errors = {"fit": (data.loo_mean_pct, data.loo_max_pct),
              "queueing": (data.queueing_loo_mean_pct, data.queueing_loo_max_pct)}
    other = "queueing" if data.model == "fit" else "fit"

    def err(model: str) -> str:
        mean, worst = errors[model]
        return "not scored" if mean is None else f"held-out error {mean:.0f}% (worst {worst:.0f}%)"
    return f"by the {MODEL_NAMES[data.model]}, {err(data.model)}; the {MODEL_NAMES[other]}'s {err(other)}"


def answer_line(data: FindResult | dict, out: Path, backend: str, repeats: int = 3) -> str:
    data = data if isinstance(data, FindResult) else FindResult.model_validate(data)
    users, a = data.users, data.answer
    if data.status == "PREDICTED":
        return (f"**{users:,} users (~{data.offered_rps:,.0f} req/s offered) need {a.replicas} x "
                f"({a.cpus:g} CPU, {a.memory}), PREDICTED from {data.knees} valid knees, "
                + (_both_errors(data) if data.model else
                   f"fit error {data.loo_mean_pct or 0:.0f}% (worst {data.loo_max_pct or 0:.0f}%)") + ": confirm with "
                f"`{confirm_command(data, 'docker', str(out))}`**"
                + (f" CONFIRMED by `{data.confirmed_by}`." if data.confirmed_by else ""))
    if data.status == "CONFIRMED":
        step = next((e.step for e in reversed(data.log) if e.cell.cpus == a.cpus
                     and e.cell.replicas == a.replicas and e.step), {}) or {}
        offered = step.get("validity", {}).get("offered_rps")
        return (f"**{users:,} users" + (f" (~{offered:,.0f} req/s offered)" if offered else "")
                + f" need {a.replicas} x ({a.cpus:g} CPU, {a.memory}): CONFIRMED, every repeat held "
                f"the SLO; {data.cells} cell(s) measured, probe and repeats included (a grid over the same "
                f"ladder and replica counts: {data.grid_cells} configurations, {data.grid_cells * repeats} "
                f"cells with {repeats} repeats each).**")
    if data.status == "INVALID":
        return (f"**This machine cannot generate {users:,} users (INVALID, not a failure): "
                f"{'; '.join(data.probe.reasons)}.** Predict from knees: "
                f"`python -m capacity find --users {users} --predict --knees results/<redline run>`")
    if data.status == "OUT OF RANGE" and data.model == "queueing":
        return (f"**{users:,} users: OUT OF RANGE: no replicas x CPU (up to 1 CPU per replica) that "
                f"`--replicas` allows holds them plus the queueing model's error margin "
                f"({data.queueing_loo_mean_pct or 0:.0f}%), by the queueing model {data.queueing}.** Allow more "
                "replicas (`--replicas 1,2,4,8`) or measure more knees.")
    if data.status == "OUT OF RANGE":
        return (f"**{users:,} users: OUT OF RANGE: no replicas x CPU (up to 1 CPU per replica) that "
                f"`--replicas` allows reaches the offered load plus the fit's error margin "
                f"({data.loo_mean_pct or 0:.0f}%), by the fit {data.fit}.** Allow more replicas "
                "(`--replicas 1,2,4,8`) or measure more knees.")
    return f"**{users:,} users: {data.status}** ({data.cells} cell(s) measured; see below)."


# A find cell's cost and the machine's budget (measure/cost.py; runs since 2026-12-06): cgroup cores of the api and
# the lb, the generator's cores (docker stats), the whole machine's (/proc/stat), CPU per request.
BUDGET = (("api_cpu_cores", "API cores", 2), ("api_us_per_request", "API us/req", 0),
          ("lb_cpu_cores", "lb cores", 2), ("lb_us_per_request", "lb us/req", 0),
          ("generator_cpu_cores_mean", "generator cores", 2), ("host_cpu_cores", "host cores (of 2)", 2))


def _log_table(log: list[Measurement]) -> list[str]:
    budget = [b for b in BUDGET if any((e.step or {}).get(b[0]) is not None for e in log)]
    lines = ["| measurement | configuration | status | users | req/s | p95 (ms) | errors | API CPU (cores) | "
             "peak RSS (MiB) | " + "".join(f"{label} | " for _, label, _ in budget) + "reasons |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(budget) + "---|"]
    for e in log:
        s = e.step or {}
        lines.append(f"| {e.folder} | {e.cell.label} | {e.status} | {_f(s.get('users'))} | "
                     f"{_f(s.get('delivered_rps'), 1)} | {_f(s.get('p95_ms'))} | {_f(s.get('failures'))} | "
                     f"{_f(s.get('api_cpu_cores_mean'), 2)} | {_f(e.api_mem_peak_mb)} | "
                     + "".join(f"{_f(s.get(key), digits)} | " for key, _, digits in budget)
                     + f"{'; '.join(e.reasons) or 'SLO held'} |")
    return lines


def _deployment(answer: Answer | None) -> str:
    return f"{answer.replicas} x {answer.cpus:g} CPU" if answer else "out of range"


def _prediction_lines(data: FindResult) -> list[str]:
    """What a prediction rests on: the fit, Little's law, the knees left out; the queueing model's beside it."""
    lines = [f"- Fit from `{data.knees_run}`: {data.fit}."]
    if data.status == "PREDICTED":
        offered = offered_rps(data.users, data.think_time_s, data.response_ms)
        by = (f"the fit predicts {data.predicted_rps:,.0f} req/s for the answer" if data.model != "queueing" else
              f"the queueing model puts the answer's knee at {data.queueing_knee_users:,} users and serves "
              f"{data.users:,} users {data.predicted_rps:,.0f} req/s")
        lines.append(f"- Offered load by Little's law: {data.users:,} / ({data.think_time_s:g} s think + "
                     f"{data.response_ms:.0f} ms response) = {offered:,.0f} req/s; {by} (its mean error is the "
                     "safety margin).")
    lines.append("- Leave-one-out: " + ", ".join(f"{lab}: measured {m:,.0f}, predicted {p:,.0f}"
                                                 for lab, m, p in data.loo))
    if data.model:
        lines += [f"- Queueing model (capacity/README.md, \"The queueing model\"): {data.queueing}.",
                  "- Held out (queueing model): " + ", ".join(
                      f"{lab}: measured {mu:,.0f} users / {m:,.0f} req/s, predicted {pu:,} / {p:,.0f} (step {step:,})"
                      for lab, m, p, mu, pu, step in data.queueing_loo),
                  f"- Answers: the fit's {_deployment(data.answers.get('fit'))}, the queueing model's "
                  f"{_deployment(data.answers.get('queueing'))}; the {MODEL_NAMES[data.model]}'s is taken (the "
                  "smaller mean held-out error)."]
    return lines


def write_find_report(out: Path) -> FindResult:
    run, data = read_run(out), FindResult.read(out)
    answer = answer_line(data, out, run["backend"], run["params"].get("repeats") or 3)
    lines = [answer, "", f"# Find `{data.users:,}` users", "", *_context(run, out)]
    if data.status == "PREDICTED" or data.model:
        lines += ["", *_prediction_lines(data)]
    if data.ruled_out:
        lines += ["", f"Ruled out unmeasured by the knees of `{data.knees_run}` (every ramp failed at "
                  f"{data.users:,} users or fewer): " + ", ".join(
                      f"{r} x <= {c:g} CPU" for r, c in sorted(data.ruled_out.items())) + "."]
    if data.log:
        memory = data.memory
        searched = "of every searched cell" if len(data.log) > 1 else "the search would have started with"
        lines += ["", f"Memory limit {searched}: {memory} (peak RSS at load and while loading the "
                  f"model, + {run['params'].get('margin', 0.25):.0%}, rounded up to 32 MiB).", "",
                  *_log_table(data.log)]
        bound = run["grid"]["slo"]["p95_ms"]
        chart = search_charts.cost_vs_p95(data.log, data.users, bound, out.name, out / "cost_vs_p95.png")
        lines += ["", f"![cost vs p95]({chart})"]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    return data
