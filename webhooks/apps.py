from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from watching import outbox

        from . import checks  # noqa: F401  (registers the deploy check)
        from .delivery import deliveries_send_due
        from .services import deliveries_fan_out
        from .signals import signals_connect

        outbox.on_change(deliveries_fan_out)
        outbox.sender("webhooks", deliveries_send_due)
        signals_connect()
