"""wrkload's history rows from segment results (no wrk, no server): the per-second rate of a ramp step's rows
leaves out the seconds cut by a segment boundary, and a crashed segment's seconds get no rows."""

import csv
from collections import Counter

from wrkload.output import write_history
from wrkload.plan import Segment
from wrkload.segment import SegmentResult


def _segment(present: int, new: int, started: float, seconds: dict[int, int], crashed: bool = False):
    duration = 15
    return SegmentResult(Segment(present, new, 500, duration), started=started, ended=started + duration + 0.3,
                         duration_us=0 if crashed else duration * 1_000_000, requests=sum(seconds.values()),
                         bytes=0, errors={}, latency_us=Counter({1_000: sum(seconds.values())}),
                         per_second={s: [n, 0] for s, n in seconds.items()}, crashed=crashed)


def _rows(path):
    with open(path, newline="") as f:
        return {int(r["Timestamp"]): r for r in csv.DictReader(f)}


def test_a_step_rate_leaves_out_the_seconds_cut_by_its_boundaries(tmp_path):
    # A step of 1,000 answers a second from t=100.6 to 115.6: second 100 holds 400 of them, second 115 600.
    step = _segment(0, 1000, 100.6, {100: 400, **{s: 1000 for s in range(101, 115)}, 115: 600})
    write_history(tmp_path / "h.csv", [step])
    rows = _rows(tmp_path / "h.csv")
    assert float(rows[115]["Requests/s"]) == 1000.0  # not (9 x 1,000 + 600) / 10 = 960
    assert float(rows[110]["Requests/s"]) == 1000.0 and int(rows[115]["Total Request Count"]) == 15_000


def test_a_crashed_segment_has_no_rows_and_the_next_one_starts_fresh(tmp_path):
    ok = _segment(0, 1000, 100.0, {s: 1000 for s in range(100, 115)})
    dead = _segment(1000, 1000, 115.4, {}, crashed=True)
    again = _segment(1000, 1000, 131.0, {s: 2000 for s in range(131, 146)})
    write_history(tmp_path / "h.csv", [ok, dead, again])
    rows = _rows(tmp_path / "h.csv")
    assert not [t for t in rows if 116 <= t <= 130]
    assert int(rows[140]["User Count"]) == 2000 and float(rows[140]["Requests/s"]) == 2000.0
