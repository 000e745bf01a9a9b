import getpass
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from oxytrack.accounts.actions import SuperadminExists, do_create_superadmin


class Command(BaseCommand):
    help = "Create the super-administrator (or reset their password)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input (scripts)",
        )

    def handle(self, *args: Any, email: str, password_stdin: bool, **options: Any) -> None:
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"not a valid email address: {email}") from None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("Mot de passe : ")
            if getpass.getpass("Mot de passe (confirmation) : ") != password:
                raise CommandError("the two passwords differ")
        try:
            user, created = do_create_superadmin(email, password)
        except SuperadminExists as exc:
            raise CommandError(f"a super-administrator already exists: {exc}") from None
        except ValidationError as exc:
            raise CommandError("password refused: " + " ".join(exc.messages)) from None
        verb = "created" if created else "updated"
        self.stdout.write(self.style.SUCCESS(f"Super-administrator {user.email} {verb}."))
