from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from . import checks, signin  # noqa: F401  (register the deploy checks and the sign-in failure count)
        from .accounts import accounts_connect
        from .revocation import revocation_connect
        from .roles import roles_sync

        post_migrate.connect(roles_sync, sender=self)
        revocation_connect()
        accounts_connect()
