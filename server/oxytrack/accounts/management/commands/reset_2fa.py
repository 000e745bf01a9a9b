from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oxytrack.accounts.models import User
from oxytrack.accounts.second_factor import do_reset_second_factor, is_required


class Command(BaseCommand):
    help = (
        "Remove a manager's second factor (authenticator and recovery codes), e.g. after "
        "a lost phone; the super-administrator sets it up again at the next login. Audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"no manager with this email: {email}")
        removed = do_reset_second_factor(user)
        then = (
            "they set up a new one at the next login"
            if is_required(user)
            else "they log in with their password only"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Second factor of {user.email} reset ({removed} device(s) removed): {then}."
            )
        )
