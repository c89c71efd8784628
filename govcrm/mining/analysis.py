"""Process mining of an event log: the map, the variants, the time between steps, the loops. No database.

Rules:
- A log is a list of `Trace`s (one per case or application), each with its events in time order.
- The process map is the directly-follows graph (DFG): how often activity b directly follows a in
  a trace, discovered with pm4py (`discover_dfg`, `discover_performance_dfg`), plus, for each such
  edge, the time between the two events: mean, median and 90th percentile (nearest-rank) in
  seconds. Start and end activities are counted as pm4py counts them.
- Variants are the distinct activity sequences and how many traces follow each (pm4py
  `get_variants`), most frequent first (ties by the sequence).
- Loops, counted per trace and summed per group (category, unit, period):
  * `returns`: 退单 events; `returned_back`: a unit that returned the case gets it again (the
    centre's arbitration or a later dispatch/transfer to that same unit): the return ping-pong
    between the centre and a unit, counted for that unit;
  * `ping_pong`: the case goes from unit A to unit B and back to A (A→B→A in the sequence of units
    holding it, consecutive repeats collapsed), counted for unit A;
  * `send_backs`: 退回 of a reply by the centre; `repeated_send_back`: traces sent back twice or more;
  * `reopens`: 重办 after an unsatisfied follow-up.
- pm4py is AGPL and prints a banner on import: it is imported on first use, with the banner
  swallowed, and its progress bars turned off.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Moves that hand the case to a unit (the unit is in the event's data), and the return.
TO_UNIT = frozenset({"dispatch", "subdispatch", "transfer", "arbitrate", "reopen"})


@dataclass(frozen=True)
class Event:
    activity: str
    at: dt.datetime
    unit: str = ""  # the unit holding the case after this event ("" = the centre / none)


@dataclass(frozen=True)
class Trace:
    key: str
    events: tuple[Event, ...]
    category: str = ""
    period: str = ""  # e.g. 2026-11 (month of registration)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    count: int
    mean_s: float
    median_s: float
    p90_s: float


@dataclass(frozen=True)
class ProcessMap:
    activities: dict[str, int]  # activity → number of events
    edges: list[Edge]
    starts: dict[str, int]
    ends: dict[str, int]


@dataclass
class LoopCounts:
    traces: int = 0
    returns: int = 0
    returned_back: int = 0
    ping_pong: int = 0
    send_backs: int = 0
    repeated_send_back: int = 0
    reopens: int = 0

    def add(self, other: LoopCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Loops:
    total: LoopCounts = field(default_factory=LoopCounts)
    by_category: dict[str, LoopCounts] = field(default_factory=dict)
    by_unit: dict[str, LoopCounts] = field(default_factory=dict)
    by_period: dict[str, LoopCounts] = field(default_factory=dict)
    unit_pairs: Counter = field(default_factory=Counter)  # (A, B) → A→B→A occurrences


@functools.cache
def pm4py():
    """pm4py, imported once; its AGPL banner is not printed into our logs."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import pm4py as module
        from pm4py.util import constants

    constants.SHOW_PROGRESS_BAR = False
    return module


def dataframe(traces: Sequence[Trace]):
    """The log as pm4py's DataFrame: case:concept:name, concept:name, time:timestamp, org:resource, …"""
    import pandas as pd

    rows = [
        {"case:concept:name": t.key, "case:category": t.category, "case:period": t.period, "concept:name": e.activity,
         "time:timestamp": e.at, "org:resource": e.unit or "centre", "order": i}
        for t in traces for i, e in enumerate(t.events)
    ]
    columns = ["case:concept:name", "case:category", "case:period", "concept:name", "time:timestamp", "org:resource",
               "order"]
    df = pd.DataFrame(rows, columns=columns)
    df["time:timestamp"] = pd.to_datetime(df["time:timestamp"], utc=True)
    return df


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def step_times(traces: Iterable[Trace]) -> dict[tuple[str, str], list[float]]:
    """Seconds between each pair of directly following events, per (a, b)."""
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    for t in traces:
        for a, b in zip(t.events, t.events[1:], strict=False):
            out[(a.activity, b.activity)].append((b.at - a.at).total_seconds())
    return out


def discover(traces: Sequence[Trace]) -> ProcessMap:
    """The directly-follows graph with frequencies (pm4py) and times between the steps."""
    if not traces or not any(t.events for t in traces):
        return ProcessMap({}, [], {}, {})
    pm = pm4py()
    df = dataframe(traces)
    dfg, starts, ends = pm.discover_dfg(df)
    times = step_times(traces)
    edges = []
    for (a, b), count in dfg.items():
        values = times[(a, b)]
        edges.append(Edge(a, b, int(count), statistics.fmean(values), statistics.median(values),
                          percentile(values, 90)))
    edges.sort(key=lambda e: (-e.count, e.source, e.target))
    activities = Counter(e.activity for t in traces for e in t.events)
    return ProcessMap(dict(activities.most_common()), edges, {k: int(v) for k, v in starts.items()},
                      {k: int(v) for k, v in ends.items()})


def variants(traces: Sequence[Trace]) -> list[tuple[tuple[str, ...], int]]:
    """Distinct activity sequences and their number of traces (pm4py), most frequent first."""
    if not traces:
        return []
    found = pm4py().get_variants(dataframe(traces))
    out = [(tuple(v), n if isinstance(n, int) else len(n)) for v, n in found.items()]
    out.sort(key=lambda x: (-x[1], x[0]))
    return out


def _holders(trace: Trace) -> list[str]:
    """The units the case was handed to, in order, consecutive repeats collapsed."""
    out: list[str] = []
    for e in trace.events:
        if e.activity in TO_UNIT and e.unit and (not out or out[-1] != e.unit):
            out.append(e.unit)
    return out


def loops_of(trace: Trace) -> tuple[LoopCounts, dict[str, LoopCounts], Counter]:
    """This trace's loop counts, the same split by unit, and its A→B→A unit pairs."""
    total = LoopCounts(traces=1)
    per_unit: dict[str, LoopCounts] = defaultdict(LoopCounts)
    returned: set[str] = set()
    for e in trace.events:
        if e.activity == "return" and e.unit:
            total.returns += 1
            per_unit[e.unit].returns += 1
            returned.add(e.unit)
        elif e.activity in TO_UNIT and e.unit in returned:
            total.returned_back += 1
            per_unit[e.unit].returned_back += 1
            returned.discard(e.unit)
        if e.activity == "send_back":
            total.send_backs += 1
            if e.unit:
                per_unit[e.unit].send_backs += 1
        if e.activity == "reopen":
            total.reopens += 1
            if e.unit:
                per_unit[e.unit].reopens += 1
    pairs: Counter = Counter()
    holders = _holders(trace)
    for a, b, c in zip(holders, holders[1:], holders[2:], strict=False):
        if a == c and a != b:
            total.ping_pong += 1
            per_unit[a].ping_pong += 1
            pairs[(a, b)] += 1
    if total.send_backs >= 2:
        total.repeated_send_back = 1
    for unit in {e.unit for e in trace.events if e.unit}:
        per_unit[unit].traces = 1
    return total, dict(per_unit), pairs


def loops(traces: Iterable[Trace]) -> Loops:
    out = Loops()
    for t in traces:
        total, per_unit, pairs = loops_of(t)
        out.total.add(total)
        out.by_category.setdefault(t.category, LoopCounts()).add(total)
        out.by_period.setdefault(t.period, LoopCounts()).add(total)
        for unit, counts in per_unit.items():
            out.by_unit.setdefault(unit, LoopCounts()).add(counts)
        out.unit_pairs.update(pairs)
    return out


def write_xes(traces: Sequence[Trace], path: str) -> None:
    """The log as an XES file (pm4py's exporter)."""
    import warnings

    df = dataframe(traces).drop(columns=["order"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "install r4pm to export faster": the Python exporter is used
        pm4py().write_xes(df, path, case_id_key="case:concept:name")
