from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def latest_refresh() -> str:
    """The latest finished refresh run (id and time), or "never": part of the cached pages' stamp."""
    from .models import RefreshRun

    run = (
        RefreshRun.objects.filter(finished_at__isnull=False)
        .order_by("-finished_at", "-pk")
        .values_list("pk", "finished_at")
        .first()
    )
    return f"{run[0]}@{run[1].isoformat()}" if run else "never"


class PictureConfig(AppConfig):
    name = "problembild.picture"
    verbose_name = _("Problembild (beräknade resultat)")

    def ready(self) -> None:
        from problembild.core.cache import register_stamp_part

        # A finished refresh changes every figure the cached pages show.
        register_stamp_part("refresh", latest_refresh)
