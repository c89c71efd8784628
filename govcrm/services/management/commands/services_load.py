"""Load the shipped process files (processes/*.bpmn + .dmn) and the three online service items.

A changed file becomes a new version of its process; running applications keep theirs.
Units are looked up by code; an item whose unit does not exist yet is skipped with a warning.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from govcrm.services.loading import load_catalogue, load_processes


class Command(BaseCommand):
    help = "Load the shipped BPMN/DMN process definitions and the online service items."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=None, help="a folder of .bpmn/.dmn files")

    def handle(self, *args, dir=None, **options):
        for definition, created in load_processes(dir):
            self.stdout.write(f"{definition} {'loaded' if created else 'unchanged'}")
        for item, note in load_catalogue():
            self.stdout.write(f"{item}: {note}")
