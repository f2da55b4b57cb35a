from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from entra.provider import entra_configured
from entra.services import InvitationRefused, customer_invite


class Command(BaseCommand):
    help = (
        "Create or update a customer user without a password, link F&O customer accounts, and e-mail a one-time link "
        "that lets them link their Microsoft work account and sign in with it. A new invitation replaces an open one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--account", action="append", default=[], metavar="COMPANY:ACCOUNT",
                            help="e.g. usmf:US-001; repeat for several (needed for a new user)")
        parser.add_argument("--base-url", default="",
                            help="the portal's address in the link (default: PORTAL_BASE_URL)")
        parser.add_argument("--language", default="", choices=[code for code, _name in settings.LANGUAGES],
                            help="the user's language, for this e-mail and the portal (default: the user's own, "
                                 "else LANGUAGE_CODE)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not entra_configured():
            raise CommandError("Sign-in with Microsoft is not configured (ENTRA_CLIENT_ID and a secret or "
                               "certificate). Nothing was changed.")
        base_url = options["base_url"] or settings.PORTAL_BASE_URL
        try:
            user, invitation = customer_invite(email=options["email"], accounts=options["account"], base_url=base_url,
                                               language=options["language"])
        except InvitationRefused as exc:
            raise CommandError(f"{exc}. Nothing was changed.") from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"invited {user.get_username()}: the link went to {invitation.email} and works once, until "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC"
        )
