"""Early warning (未诉先办): is the last window's count abnormally high against its own past?

The rule (no database here):
- A series is the number of cases per window of `window_days` days of one subject (a hot topic,
  an area, a category × area), the last window ending now and `baseline_windows` windows before it.
- If the subject's rate were constant (stationary Poisson), then given the total T of all
  N + 1 windows the last window's count X is Binomial(T, 1/(N + 1)). The p-value is the upper
  tail P(Bin(T, 1/(N+1)) ≥ x): the exact conditional test for comparing two Poisson rates. It
  needs no estimate of the rate, so a short or quiet baseline does not inflate false alarms.
- A warning is raised when p < `alpha` **and** x ≥ `min_count` (a handful of cases is not a
  wave, however quiet the past was).
- False-alarm rate: the test is exact and discrete, hence conservative: on a stationary series a
  warning is raised with probability at most `alpha` per subject and evaluation (default 0.001,
  so about one false warning per 1,000 subjects tested), and less where counts are small, since
  `min_count` then rules most alarms out. `bench/topics.py` measures it on simulated series
  (figures in bench/RESULTS.md) and `tests/test_burst.py` checks it with a fixed seed.
- `expected` is the baseline mean per window (what the past predicts), shown to people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import binom


@dataclass(frozen=True)
class Rule:
    window_days: int = 3
    baseline_windows: int = 8
    alpha: float = 0.001
    min_count: int = 4

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Result:
    observed: int
    expected: float
    p_value: float
    alarm: bool


def burst_test(baseline: Sequence[int], observed: int, rule: Rule | None = None) -> Result:
    """Test the last window's count `observed` against the counts of the windows before it."""
    rule = rule or Rule()
    n = len(baseline)
    if n == 0:
        raise ValueError("a burst test needs at least one baseline window")
    total = int(sum(baseline)) + int(observed)
    expected = float(sum(baseline)) / n
    # P(X >= observed) = sf(observed - 1); with observed == 0 the tail is 1.
    p_value = float(binom.sf(observed - 1, total, 1.0 / (n + 1))) if observed > 0 else 1.0
    return Result(observed=int(observed), expected=expected, p_value=p_value,
                  alarm=p_value < rule.alpha and observed >= rule.min_count)


def window_counts(days: Sequence[int], rule: Rule) -> tuple[list[int], int]:
    """(baseline window counts, last window count) from daily counts, oldest first, today last.

    `days` must hold at least window_days × (baseline_windows + 1) days; earlier days are ignored.
    """
    w, n = rule.window_days, rule.baseline_windows
    need = w * (n + 1)
    if len(days) < need:
        days = [0] * (need - len(days)) + list(days)
    tail = list(days)[-need:]
    windows = [sum(tail[i * w:(i + 1) * w]) for i in range(n + 1)]
    return windows[:-1], windows[-1]
