from __future__ import annotations

import getpass
import sys
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.services import account_ref_parse, customer_user_upsert


class Command(BaseCommand):
    help = (
        "Create or update a customer user and link F&O customer accounts. Safe to run again. The password is asked "
        "for (twice) at a terminal, or read from the first line of standard input, unless --no-password is given."
    )
    stealth_options = ("stdin",)  # call_command(..., stdin=io.StringIO("...")) in tests, as createsuperuser does

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        password = parser.add_mutually_exclusive_group()
        password.add_argument("--password",
                              help="the password; visible to other users of this machine (ps, shell history): "
                                   "prefer the prompt or standard input")
        password.add_argument("--no-password", action="store_true",
                              help="set no password: a new user cannot sign in until they reset it (the reset "
                                   "e-mail on the sign-in page); an existing user keeps theirs")
        parser.add_argument("--account", action="append", default=[], metavar="COMPANY:ACCOUNT",
                            help="e.g. usmf:US-001; repeat for several")
        parser.add_argument("--replace-accounts", action="store_true",
                            help="remove links to accounts not given here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            accounts = [account_ref_parse(a) for a in options["account"]]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        password = None
        if not options["no_password"]:
            stdin = options.get("stdin") or sys.stdin
            password = options["password"] if options["password"] is not None else self._read_password(stdin)
            self._validate(password, email=options["email"])
        try:
            user, created = customer_user_upsert(
                email=options["email"], password=password, accounts=accounts,
                replace_accounts=options["replace_accounts"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        links = ", ".join(str(a) for a in sorted(accounts)) or "no new accounts"
        self.stdout.write(f"{'created' if created else 'updated'} {user.username}: {links}")

    def _read_password(self, stdin: TextIO) -> str:
        if stdin.isatty():
            first = getpass.getpass("Password: ")
            if first != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ. Nothing was changed.")
            return first
        line = stdin.readline().rstrip("\r\n")
        if not line:
            raise CommandError("No password on standard input (give --no-password to set none). Nothing was changed.")
        return line

    def _validate(self, password: str, *, email: str) -> None:
        user_model = get_user_model()
        email = user_model.objects.normalize_email(email.strip())
        user = user_model.objects.filter(username__iexact=email).first() or user_model(
            username=email.lower(), email=email
        )
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages) + " Nothing was changed.") from exc
