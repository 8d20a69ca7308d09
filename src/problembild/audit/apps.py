from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "problembild.audit"
    verbose_name = _("Revisionsuppföljning (rekommendationer, åtgärder, underlag)")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from .models import Evidence

        post_delete.connect(_delete_file, sender=Evidence, dispatch_uid="audit-evidence-file")


def _delete_file(sender, instance, **kwargs) -> None:
    """A deleted evidence record takes its stored file with it (nothing else refers to it)."""
    if instance.file_key:
        from problembild.core.uploads import delete

        delete(instance.file_key)
