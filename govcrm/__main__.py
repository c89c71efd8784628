"""The `govcrm` console command: Django's management commands behind one script."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["govcrm", *sys.argv[1:]])


if __name__ == "__main__":
    main()
