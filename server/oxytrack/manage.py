"""The `oxytrack` console command (Django's manage.py, installed as a script)."""

import os
import sys


def main() -> None:
    """Run a management command, e.g. `oxytrack migrate` or `oxytrack seed_demo`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oxytrack.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
