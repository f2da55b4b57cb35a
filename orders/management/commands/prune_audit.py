from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from orders.audit import audit_prune


class Command(BaseCommand):
    help = "Delete lookup audit records older than AUDIT_RETENTION_DAYS, and F&O call records older than two days."

    def handle(self, *args: Any, **options: Any) -> None:
        audits, snapshots = audit_prune()
        self.stdout.write(f"{audits} audit records and {snapshots} snapshots deleted")
