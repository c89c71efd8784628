"""`govcrm classifier train|evaluate|list|activate` — the dispatch classifier's life cycle.

    govcrm classifier train --data FILE.csv --text-column COL --label-column COL [--title-column COL]
    govcrm classifier train                       # from the cases' own history
    govcrm classifier evaluate --data FILE.csv --text-column COL --label-column COL [--title-column COL]
    govcrm classifier list
    govcrm classifier activate VERSION

`train` saves a new version and makes it active, and prints its cross-validated figures.
`evaluate` prints as its last line one JSON object: macro_f1, accuracy, n, per_class, model,
ms_per_message. Labels the model does not know count as errors.
"""

from __future__ import annotations

import json
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

from govcrm.intelligence import classifier, data, store
from govcrm.intelligence.models import ClassifierModel


class Command(BaseCommand):
    help = "Train, evaluate, list and activate versions of the dispatch classifier."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        for verb in ("train", "evaluate"):
            p = sub.add_parser(verb)
            p.add_argument("--data", help="UTF-8 CSV file with a header row" +
                           (" (none: the cases' history)" if verb == "train" else ""))
            p.add_argument("--text-column")
            p.add_argument("--label-column")
            p.add_argument("--title-column")
        train = sub.choices["train"]
        train.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: none)")
        train.add_argument("--seed", type=int, default=0)
        train.add_argument("--no-activate", action="store_true", help="save the version without using it")
        sub.add_parser("list")
        act = sub.add_parser("activate")
        act.add_argument("version")

    def handle(self, *args, **opts):
        self._database_ready()
        try:
            getattr(self, f"_{opts['verb']}")(opts)
        except data.DataError as e:
            raise CommandError(str(e)) from None

    def _database_ready(self) -> None:
        """A fresh checkout has an empty database: migrate it first, as `govcrm up` would."""
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write("Preparing the database (migrate) …")
            call_command("migrate", interactive=False, verbosity=0)

    def _examples(self, opts, *, need_data: bool) -> data.Examples:
        if not opts["data"]:
            if need_data:
                raise CommandError(_("Give --data FILE.csv."))
            return data.from_history()
        if not opts["text_column"] or not opts["label_column"]:
            raise CommandError(_("Give --text-column and --label-column."))
        return data.from_csv(opts["data"], text_column=opts["text_column"], label_column=opts["label_column"],
                             title_column=opts["title_column"])

    def _train(self, opts):
        t0 = time.perf_counter()
        ex = self._examples(opts, need_data=False)
        seg = time.perf_counter() - t0
        self.stdout.write(f"{len(ex.docs)} examples from {ex.source} ({ex.skipped} rows skipped), "
                          f"segmented in {seg:.1f} s")
        try:
            trained = classifier.train(ex.docs, ex.labels, folds=opts["folds"], seed=opts["seed"])
        except ValueError:
            raise CommandError(_("Need at least two labels with %(n)d or more examples each.")
                               % {"n": classifier.MIN_PER_LABEL}) from None
        row = store.model_save(trained=trained, source=ex.source, activate=not opts["no_activate"])
        if trained.dropped:
            self.stdout.write(f"labels left out (fewer than {classifier.MIN_PER_LABEL} examples): "
                              + ", ".join(f"{k} ({v})" for k, v in sorted(trained.dropped.items())))
        if trained.cv:
            cv = trained.cv
            self.stdout.write(f"{trained.cv_folds}-fold cross-validation (stratified, seed {opts['seed']}): "
                              f"macro-F1 {cv['macro_f1']:.4f}, accuracy {cv['accuracy']:.4f}, n {cv['n']} "
                              f"({trained.cv_seconds:.1f} s)")
            for label, s in sorted(cv["per_class"].items()):
                self.stdout.write(f"  {label:<30} P {s['precision']:.3f}  R {s['recall']:.3f}  "
                                  f"F1 {s['f1']:.3f}  n {s['support']}")
        self.stdout.write(f"final model fitted on all {trained.n} examples in {trained.seconds:.1f} s; "
                          f"total {time.perf_counter() - t0:.1f} s")
        self.stdout.write(f"saved version {row.version}{' (active)' if row.active else ''}")
        self.stdout.write(json.dumps({"version": row.version, "n": trained.n, "cv": trained.cv,
                                      "train_seconds": round(trained.seconds, 1),
                                      "total_seconds": round(time.perf_counter() - t0, 1)}, ensure_ascii=False))

    def _evaluate(self, opts):
        active = store.active_model()
        if active is None:
            raise CommandError(_("No classifier is trained yet: run `govcrm classifier train` first."))
        row, model = active
        ex = self._examples(opts, need_data=True)
        t0 = time.perf_counter()
        preds = classifier.predict(model, ex.docs)
        ms = (time.perf_counter() - t0) * 1000 / len(ex.docs)
        result = classifier.scores(ex.labels, [p.label for p in preds])
        unknown = sorted(set(ex.labels) - set(row.labels))
        if unknown:
            self.stdout.write("labels the model does not know (counted as errors): " + ", ".join(unknown))
        self.stdout.write(f"model {row.version} on {ex.source}: macro-F1 {result['macro_f1']:.4f}, "
                          f"accuracy {result['accuracy']:.4f}, n {result['n']}")
        self.stdout.write(json.dumps({**result, "model": row.version, "ms_per_message": round(ms, 2)},
                                     ensure_ascii=False))

    def _list(self, opts):
        for row in ClassifierModel.objects.all():
            cv = (row.metrics or {}).get("cv") or {}
            self.stdout.write(f"{'*' if row.active else ' '} {row.version}  {row.source:<30} n={row.n_samples:<7} "
                              f"cv macro-F1={cv.get('macro_f1', '-')}")

    def _activate(self, opts):
        row = ClassifierModel.objects.filter(version=opts["version"]).first()
        if row is None:
            raise CommandError(_("No such version: %(v)s") % {"v": opts["version"]})
        try:
            store.load(row)  # refuse to activate a file that is missing or changed
        except store.ModelFileError as e:
            raise CommandError(str(e)) from None
        row = store.model_activate(version=row.version)
        self.stdout.write(f"active: {row.version}")
