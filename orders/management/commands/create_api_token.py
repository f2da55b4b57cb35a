from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from orders.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it on stdout (shown once; only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="Command-line token")
        parser.add_argument("--expires-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"no user {options['email']!r}")
        days = options["expires_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        _token, raw = api_token_create(user=user, name=options["name"], expires_at=expires_at)
        self.stdout.write(raw)
