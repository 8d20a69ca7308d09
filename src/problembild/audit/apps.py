from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "problembild.audit"
    verbose_name = _("Revisionsuppföljning (rekommendationer, åtgärder, underlag)")

    def ready(self) -> None:
        from problembild.core.uploads import delete_files_with

        from .models import Evidence

        delete_files_with(Evidence)
