from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from orders.accounts import AccountRef
from orders.services import customer_user_upsert

# Accounts that exist in the simulator's demo data (simulator/data.py).
DEMO_CUSTOMERS = [
    ("alice@example.com", [AccountRef("usmf", "US-001")]),
    ("bob@example.com", [AccountRef("usmf", "US-002")]),
    ("carla@example.com", [AccountRef("usmf", "US-003"), AccountRef("demf", "US-003")]),
    ("dieter@example.com", [AccountRef("demf", "DE-001")]),
]
DEMO_PASSWORD = "demo-orders-2026"  # noqa: S105  (demo data for the simulator)
DEMO_STAFF = ("support@example.com", "demo-support-2026")
DEMO_ADMIN = ("admin@example.com", "demo-admin-2026")


class Command(BaseCommand):
    help = "Create demo customers (and a support user) on the simulator's data. For `make run`, never production."

    def handle(self, *args: Any, **options: Any) -> None:
        for email, accounts in DEMO_CUSTOMERS:
            customer_user_upsert(email=email, password=DEMO_PASSWORD, accounts=accounts)
        from django.contrib.auth.models import Group

        from orders.roles import ADMINISTRATOR, AGENT

        user_model = get_user_model()
        for (email, password), role in ((DEMO_STAFF, AGENT), (DEMO_ADMIN, ADMINISTRATOR)):
            staff, _ = user_model.objects.get_or_create(username=email, defaults={"email": email})
            staff.is_staff = True
            staff.set_password(password)
            staff.save()
            staff.groups.set([Group.objects.get(name=role)])
        self.stdout.write(f"Demo sign-ins (password for every customer: {DEMO_PASSWORD}):")
        for email, accounts in DEMO_CUSTOMERS:
            self.stdout.write(f"  {email:<22} {', '.join(str(a) for a in accounts)}")
        self.stdout.write(f"  {DEMO_STAFF[0]:<22} support agent, password {DEMO_STAFF[1]}  (/staff/orders/)")
        self.stdout.write(f"  {DEMO_ADMIN[0]:<22} administrator, password {DEMO_ADMIN[1]}  (/admin/)")
