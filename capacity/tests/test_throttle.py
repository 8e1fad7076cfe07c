"""CFS throttling share per step from throttle.csv samples (cumulative counters per container)."""

from capacity.measure.throttle import THROTTLE_CSV, read_throttle, throttled_share


def test_share_is_summed_over_containers_within_the_window(tmp_path):
    (tmp_path / THROTTLE_CSV).write_text(
        "timestamp,container,nr_periods,nr_throttled\n"
        "100,a,1000,10\n100,b,500,0\n"
        "110,a,1100,60\n110,b,600,30\n"
        "200,a,2000,900\n")
    rows = read_throttle(tmp_path)
    assert throttled_share(rows, 100, 110) == round((50 + 30) / (100 + 100), 3)
    assert throttled_share(rows, 150, 160) is None  # nothing sampled there
    assert read_throttle(tmp_path / "missing") == []
