from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.services import account_ref_parse, customer_user_upsert


class Command(BaseCommand):
    help = "Create or update a customer user and link F&O customer accounts. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="set this password; omit to keep the current one")
        parser.add_argument("--account", action="append", default=[], metavar="COMPANY:ACCOUNT",
                            help="e.g. usmf:US-001; repeat for several")
        parser.add_argument("--replace-accounts", action="store_true",
                            help="remove links to accounts not given here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            accounts = [account_ref_parse(a) for a in options["account"]]
            user, created = customer_user_upsert(
                email=options["email"], password=options["password"], accounts=accounts,
                replace_accounts=options["replace_accounts"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        links = ", ".join(str(a) for a in sorted(accounts)) or "no new accounts"
        self.stdout.write(f"{'created' if created else 'updated'} {user.username}: {links}")
