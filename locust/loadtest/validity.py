"""Is a load test measuring the API, or the machine that generates the load? One answer for every caller.

    from loadtest.validity import Load, Generator, Replica, Thresholds, judge
    verdict = judge(Load(users=10_000, think_time_s=1.75, response_time_s=0.9, delivered_rps=1_400),
                    [Generator("worker 3", cpu_pct=38.0, runqueue_pct=41.0)],
                    [Replica("172.18.0.7:8000", cpu_cores=0.2, cpu_limit_cores=1.0, throttled_share=0.0)])
    verdict.valid      # False
    verdict.reason     # "offered 3,769 req/s, delivered 1,400 (37%); worker 3 waited for a CPU 41% of the time"

A run is INVALID when any of these holds (thresholds in `Thresholds`, defaults from loadtest.settings):
- delivered load is below `min_delivered_ratio` of the offered load. Offered load is Little's law for a closed
  loop: users / (mean think time + mean response time). In a healthy closed loop the two agree; when the
  generator cannot wake its users on time (or the host cannot run them), delivered falls short. When every
  Locust process was measured and none is busy by the two rules below, the shortfall is the API's instead
  (`api_behind`: requests queue up faster than they are answered, e.g. 1 x 0.05 CPU at 150 users, 2026-11-30):
  the measurement is valid and says so in a note;
- a Locust process (worker or master) used more than `max_cpu_pct` of one core (Locust's own 90% rule);
- a Locust process was runnable but waiting for a CPU more than `max_runqueue_pct` of the wall time
  (`/proc/<pid>/schedstat`, field 2): the starved generator that stays under 90% CPU;
- more users run than were asked for: starved workers missed their heartbeats, the master handed their users
  to the others, and the late ones kept theirs too (seen here: 22,250 users for a 10,000 target).
INVALID by the generator's CPU or run-queue rules alone, with the load delivered (>= `busy_delivered_ratio`), is
`generator_only`: the API got its load and the measured latency includes the generator's own waiting, so a
measurement that still meets its SLO is a conservative PASS (capacity uses this); a miss stays INVALID.
An API replica throttled by its own CPU limit is not a reason: the limit is what is measured. It becomes a note,
and so does a replica far under its limit while the generator starves (the host, not the API, is the limit).
While users are still being spawned (`Load.steady=False`) offered and delivered are shown but not compared.
Only the standard library: the UI, the headless summary and the capacity runner import it as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

VALID, INVALID = "VALID", "INVALID"


@dataclass(frozen=True)
class Thresholds:
    min_delivered_ratio: float = 0.8  # delivered / offered below this: the loop is not closing on time
    max_cpu_pct: float = 90.0  # % of one core for one Locust process (Locust's own warning threshold)
    max_runqueue_pct: float = 20.0  # % of wall time a Locust process waited for a CPU
    busy_delivered_ratio: float = 0.9  # a busy generator's measurement counts as delivered from here (generator_only)
    throttled_note_share: float = 0.2  # share of CFS periods throttled above which a replica is "at its limit"


@dataclass(frozen=True)
class Load:
    users: int
    think_time_s: float  # mean think time per task (uniform wait: (min + max) / 2)
    response_time_s: float | None  # mean response time seen by Locust; None before any request
    delivered_rps: float
    steady: bool = True  # False while spawning: offered and delivered are not compared yet
    target_users: int | None = None  # what was asked for (the UI's user count); None: unknown

    @property
    def offered_rps(self) -> float | None:
        if self.users <= 0 or self.response_time_s is None:
            return None
        cycle = self.think_time_s + self.response_time_s
        return self.users / cycle if cycle > 0 else None


@dataclass(frozen=True)
class Generator:
    """One Locust process: `name` as people should read it ("worker 3", "master")."""

    name: str
    cpu_pct: float | None  # % of one core
    runqueue_pct: float | None  # % of wall time runnable but waiting for a CPU
    role: str = "worker"


@dataclass(frozen=True)
class Replica:
    address: str
    cpu_cores: float | None  # cores used (CPU seconds per second)
    cpu_limit_cores: float | None  # None or inf = no limit / unknown
    throttled_share: float | None  # throttled periods / periods over the last interval


@dataclass(frozen=True)
class Verdict:
    valid: bool
    offered_rps: float | None
    delivered_rps: float
    ratio: float | None  # delivered / offered
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    generator_only: bool = False  # INVALID only by the generator's CPU / run-queue rules, the load delivered
    api_behind: bool = False  # delivered short of offered while every Locust process had CPU: the API's doing

    @property
    def label(self) -> str:
        return VALID if self.valid else INVALID

    @property
    def reason(self) -> str | None:
        return "; ".join(self.reasons) or None

    def as_dict(self) -> dict:
        return {"verdict": self.label, "valid": self.valid, "reason": self.reason, "reasons": list(self.reasons),
                "notes": list(self.notes), "generator_only": self.generator_only, "api_behind": self.api_behind,
                "offered_rps": _round(self.offered_rps), "delivered_rps": _round(self.delivered_rps),
                "ratio": _round(self.ratio, 3)}


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(load: Load) -> float | None:
    offered = load.offered_rps
    return load.delivered_rps / offered if offered else None


def _load_line(load: Load) -> str | None:
    ratio = _ratio(load)
    if ratio is None:
        return None
    return f"offered {load.offered_rps:,.0f} req/s, delivered {load.delivered_rps:,.0f} ({ratio:.0%})"


def _generator_reasons(generators: Iterable[Generator], t: Thresholds) -> list[str]:
    reasons = []
    for g in generators:
        if g.cpu_pct is not None and g.cpu_pct > t.max_cpu_pct:
            reasons.append(f"{g.name} used {g.cpu_pct:g}% of a CPU (limit {t.max_cpu_pct:g}%)")
        if g.runqueue_pct is not None and g.runqueue_pct > t.max_runqueue_pct:
            reasons.append(f"{g.name} waited for a CPU {g.runqueue_pct:.0f}% of the time")
    return reasons


def _replica_notes(replicas: Iterable[Replica], starved: bool, t: Thresholds) -> list[str]:
    notes = []
    for r in replicas:
        limited = r.cpu_limit_cores is not None and r.cpu_limit_cores != float("inf")
        if r.throttled_share is not None and r.throttled_share > t.throttled_note_share:
            notes.append(f"api {r.address} throttled in {r.throttled_share:.0%} of CPU periods: its own CPU limit "
                         f"({r.cpu_limit_cores:g} cores) holds it back" if limited else
                         f"api {r.address} throttled in {r.throttled_share:.0%} of CPU periods")
        elif starved and r.cpu_cores is not None and limited and r.cpu_cores < 0.5 * r.cpu_limit_cores:
            notes.append(f"api {r.address} used {r.cpu_cores:.2f} of {r.cpu_limit_cores:g} cores: the host or "
                         "the generator is the limit, not the API")
    return notes


def _all_measured(generators: list[Generator]) -> bool:
    return bool(generators) and all(g.cpu_pct is not None and g.runqueue_pct is not None for g in generators)


def _crowded(load: Load) -> bool:
    return bool(load.target_users) and load.users > load.target_users * 1.01


def judge(load: Load, generators: Iterable[Generator] = (), replicas: Iterable[Replica] = (),
          thresholds: Thresholds | None = None) -> Verdict:
    """VALID or INVALID with human reasons (see the module docstring for the rules)."""
    t = thresholds or Thresholds()
    ratio, line = _ratio(load), _load_line(load)
    short = load.steady and ratio is not None and ratio < t.min_delivered_ratio
    generators = list(generators)
    reasons = _generator_reasons(generators, t)
    # Short with every Locust process measured and none busy: the users wait for answers, not for a CPU.
    api_behind = short and not reasons and _all_measured(generators) and not _crowded(load)
    short = short and not api_behind
    generator_only = bool(reasons) and load.steady and ratio is not None and ratio >= t.busy_delivered_ratio
    if _crowded(load):
        reasons.append(f"{load.users:,} users run for a target of {load.target_users:,}: starved workers missed "
                       "their heartbeats and Locust gave their users to others")
        generator_only = False
    if line and (short or reasons):  # an INVALID verdict always says how far delivered fell short
        reasons.insert(0, line)
    notes = _replica_notes(replicas, starved=bool(reasons), t=t)
    if api_behind:
        notes.insert(0, f"{line} with Locust not busy: the API is falling behind (its requests queue up)")
    if not load.steady and load.users:
        notes.insert(0, "users are still being spawned: offered and delivered load are compared once steady")
    return Verdict(valid=not reasons, offered_rps=load.offered_rps, delivered_rps=load.delivered_rps,
                   ratio=ratio, reasons=tuple(reasons), notes=tuple(notes), generator_only=generator_only,
                   api_behind=api_behind)
