"""`demo_generate`: the demo city, then N cases with their histories, appended to the database.

Start here. The pieces, in the order they run:
  city.py       the city, its units, staff, dispatch rules and deadline policies (idempotent)
  world.py      all of that read once into plain Python, with a working-time calendar (clock.py)
  schedule.py   when each case comes in, which citizen calls, its number
  build.py      per slice of the schedule: what the case is about and its plan; texts.py writes
                its words and search text, lifecycle.py plays its life out; rows come back
  load.py       rows go into the database in bulk (SQLite executemany, PostgreSQL COPY)

Slices are built in forked worker processes when there are many cases (`workers`), while the
parent process writes; the result depends only on the seed, not on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time
from dataclasses import dataclass

from django.db import connection, connections, transaction
from django.db.models import Max
from tqdm import tqdm

from govcrm.cases.models import Case, CaseNumberSequence
from govcrm.citizens import identities
from govcrm.citizens.models import Citizen, Identity

from .build import Builder, Rows, columns_check
from .city import city_ensure
from .load import CopyPayload, SliceFile, copy_payload, slice_file_write, writer_for
from .schedule import schedule_make
from .world import world_load

SLICE = 5000
PARALLEL_MIN = 20_000  # fewer cases are built in this process: forking would cost more than it saves

_builder: Builder | None = None  # set before forking, read by the workers
_scratch: str | None = None  # where SQLite workers put their slice files


def _build_slice(spec: tuple[int, int, int]) -> Rows | SliceFile | CopyPayload:
    rows = _builder.build(*spec)
    if _scratch is not None:
        return slice_file_write(rows, os.path.join(_scratch, f"slice{spec[0]}.sqlite3"))
    return copy_payload(rows)


@dataclass(frozen=True)
class Summary:
    cases: int
    events: int
    citizens: int
    first_case_id: int
    seconds: float


def _sequences_update(day_last: dict[str, int]) -> None:
    with transaction.atomic():
        existing = {s.day: s for s in CaseNumberSequence.objects.select_for_update().filter(day__in=list(day_last))}
        changed = []
        for day, last in day_last.items():
            row = existing.get(day)
            if row is None:
                changed.append(CaseNumberSequence(day=day, last=last))
            elif row.last < last:
                row.last = last
                CaseNumberSequence.objects.filter(pk=row.pk).update(last=last)
        CaseNumberSequence.objects.bulk_create(changed, batch_size=1000)


def demo_generate(*, cases: int, seed: int = 1, days: int = 730, workers: int | None = None,
                  progress: bool = True, now: float | None = None) -> Summary:
    """Ensure the demo city, then append `cases` cases registered over the last `days` days."""
    started = time.monotonic()
    city_ensure()
    columns_check()
    now_ts = int(now if now is not None else time.time())
    world = world_load(now=now_ts, days=days)
    first_case_id = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    first_citizen_id = (Citizen.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    day_last = dict(CaseNumberSequence.objects.values_list("day", "last"))
    schedule = schedule_make(n=cases, cal=world.cal, now=now_ts, days=days, seed=seed,
                             first_case_id=first_case_id, first_citizen_id=first_citizen_id, day_last=day_last)
    taken = frozenset(Identity.objects.filter(kind=identities.PHONE).values_list("blind_index", flat=True))
    global _builder, _scratch
    _builder = Builder(world, schedule, seed=seed, vendor=connection.vendor, taken_phones=taken)
    slices = [(k, start, min(start + SLICE, cases)) for k, start in enumerate(range(0, cases, SLICE))]
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if cases >= PARALLEL_MIN else 0
    events = citizens = 0
    bar = tqdm(total=cases, unit="case", disable=not progress, smoothing=0.05)
    pool = None
    scratch = None
    try:
        if workers > 0:
            if connection.vendor == "sqlite":
                # RAM when there is some; mkdtemp makes a private directory there
                shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # noqa: S108
                scratch = _scratch = tempfile.mkdtemp(prefix="govcrm-demo-", dir=shm)
            connections.close_all()  # the children must not share the parent's database connection
            pool = multiprocessing.get_context("fork").Pool(workers)
            produced = pool.imap(_build_slice, slices)
        else:
            produced = (_builder.build(*spec) for spec in slices)
        with writer_for() as writer:
            for piece in produced:
                if isinstance(piece, SliceFile):
                    writer.write_file(piece)
                    done = (piece.cases, piece.events, piece.citizens)
                elif isinstance(piece, CopyPayload):
                    writer.write_payload(piece)
                    done = (piece.cases, piece.events, piece.citizens)
                else:
                    writer.write(piece)
                    done = (len(piece.cases), len(piece.events), len(piece.citizens))
                events += done[1]
                citizens += done[2]
                bar.update(done[0])
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        _builder = _scratch = None
    _sequences_update({day: last for day, last in schedule.day_last.items() if day_last.get(day) != last})
    return Summary(cases=cases, events=events, citizens=citizens, first_case_id=first_case_id,
                   seconds=time.monotonic() - started)
