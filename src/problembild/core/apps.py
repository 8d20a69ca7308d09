from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "problembild.core"
    verbose_name = _("Organisation och säkerhet")

    def ready(self) -> None:
        from .cache import watch_register
        from .models import OrgUnit

        # Org units are part of the register the cached pages show (names, scopes).
        watch_register(OrgUnit)

        from . import signals

        signals.connect()
