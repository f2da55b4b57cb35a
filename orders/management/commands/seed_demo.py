from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from orders.selectors import AccountRef
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


class Command(BaseCommand):
    help = "Create demo customers (and a support user) on the simulator's data. For `make run`, never production."

    def handle(self, *args: Any, **options: Any) -> None:
        for email, accounts in DEMO_CUSTOMERS:
            customer_user_upsert(email=email, password=DEMO_PASSWORD, accounts=accounts)
        staff_email, staff_password = DEMO_STAFF
        user_model = get_user_model()
        staff, _ = user_model.objects.get_or_create(username=staff_email, defaults={"email": staff_email})
        staff.is_staff = True
        staff.is_superuser = True
        staff.set_password(staff_password)
        staff.save()
        self.stdout.write(f"Demo sign-ins (password for every customer: {DEMO_PASSWORD}):")
        for email, accounts in DEMO_CUSTOMERS:
            self.stdout.write(f"  {email:<22} {', '.join(str(a) for a in accounts)}")
        self.stdout.write(f"  {staff_email:<22} support staff, password {staff_password}")
