from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WatchingConfig(AppConfig):
    name = "watching"
    verbose_name = _("Watching")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orders.pages import order_page_panel

        from . import checks, emails, panels, signals  # noqa: F401  (checks: registers the deploy check)

        signals.watches_connect()
        emails.email_connect()
        order_page_panel(panels.watch_panel)
