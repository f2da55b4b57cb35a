from __future__ import annotations

import csv
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from orders.services import account_ref_parse, customer_user_upsert


class Command(BaseCommand):
    help = (
        "Create or update many customer users from a CSV with the columns email, password (may be empty) and "
        "accounts (COMPANY:ACCOUNT, several separated by spaces or semicolons). All rows or none are applied."
    )
    stealth_options = ("stdin",)  # call_command(..., stdin=io.StringIO("...")) in tests, as createsuperuser does

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv_path", help="path to the CSV file, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["csv_path"]
        handle = (options.get("stdin") or sys.stdin) if path == "-" else open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115
        with handle:
            rows = list(csv.DictReader(handle))
        missing = {"email", "accounts"} - set(rows[0] if rows else {})
        if missing:
            raise CommandError(f"the CSV lacks the column(s): {', '.join(sorted(missing))}")
        created = updated = 0
        try:
            with transaction.atomic():
                for number, row in enumerate(rows, start=2):
                    try:
                        accounts = [account_ref_parse(a) for a in row["accounts"].replace(";", " ").split()]
                        _, is_new = customer_user_upsert(
                            email=row["email"], password=(row.get("password") or None), accounts=accounts
                        )
                    except ValueError as exc:
                        raise CommandError(f"line {number}: {exc}") from exc
                    created += is_new
                    updated += not is_new
        except CommandError:
            raise
        self.stdout.write(f"{created} created, {updated} updated")
