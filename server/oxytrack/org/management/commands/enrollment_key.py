from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oxytrack.org.actions import do_rotate_enrollment_key, get_enrollment_key


class Command(BaseCommand):
    help = "Print the enrollment key agents need to enroll; --rotate replaces it first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rotate", action="store_true", help="issue a new key (audited)")

    def handle(self, *args: Any, rotate: bool, **options: Any) -> None:
        key = do_rotate_enrollment_key(actor=None) if rotate else get_enrollment_key()
        self.stdout.write(key)
