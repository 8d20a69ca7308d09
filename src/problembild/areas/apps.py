from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "problembild.areas"
    verbose_name = _("Områdesregister")

    def ready(self) -> None:
        from problembild.core.cache import watch_register

        from .models import Area, AssessmentRound, Classification, Municipality, Population

        # Any change of the register invalidates the cached pages (core/cache.py).
        watch_register(Area, AssessmentRound, Classification, Municipality, Population)
