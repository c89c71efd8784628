import numpy as np
import pytest

from govcrm.topics.burst import Rule, burst_test, window_counts


def test_a_stationary_series_raises_no_warning():
    assert not burst_test([10, 12, 9, 11, 10, 8, 12, 10], 13).alarm


def test_a_clear_burst_raises_a_warning():
    result = burst_test([1, 0, 2, 1, 0, 1, 1, 0], 9)
    assert result.alarm
    assert result.p_value < 1e-4
    assert result.expected == pytest.approx(0.75)


def test_a_new_subject_needs_the_minimum_count():
    assert not burst_test([0] * 8, 4, Rule(min_count=5)).alarm
    assert burst_test([0] * 8, 5, Rule(min_count=5)).alarm


def test_window_counts_sum_days_into_windows_with_today_last():
    rule = Rule(window_days=2, baseline_windows=3)
    assert window_counts([9, 1, 1, 2, 0, 0, 3, 4], rule) == ([10, 3, 0], 7)
    assert window_counts([5, 9, 1, 1, 2, 0, 0, 3, 4], rule) == ([10, 3, 0], 7)  # older days ignored
    assert window_counts([5], rule) == ([0, 0, 0], 5)


@pytest.mark.parametrize(("alpha", "lam"), [(0.01, 20.0), (0.05, 5.0)])
def test_false_alarm_rate_on_stationary_poisson_stays_at_or_below_alpha(alpha, lam):
    rule = Rule(alpha=alpha, min_count=1, baseline_windows=8)
    counts = np.random.default_rng(20260301).poisson(lam, size=(4000, 9))
    rate = sum(burst_test(list(row[:-1]), int(row[-1]), rule).alarm for row in counts) / len(counts)
    # Exact but discrete, so conservative: near alpha, never far above it.
    assert alpha / 4 < rate < alpha * 1.3
