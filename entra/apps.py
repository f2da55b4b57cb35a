from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EntraConfig(AppConfig):
    name = "entra"
    verbose_name = _("Sign in with Microsoft")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
        from .signals import roles_extend, signals_connect

        signals_connect()
        post_migrate.connect(roles_extend, sender=self)
