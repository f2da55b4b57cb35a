from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
        from .roles import roles_sync

        post_migrate.connect(roles_sync, sender=self)
