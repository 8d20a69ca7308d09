from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "problembild.followup"
    verbose_name = _("Styrning och uppföljning")

    def ready(self) -> None:
        from problembild.core.imports import ImportKind, register_import_kind

        register_import_kind(
            ImportKind(
                code="activities",
                label=_("Aktiviteter per område (CSV)"),
                suffixes=(".csv",),
                runner="problembild.followup.importers.run_activity_import",
                options=("source",),
                order=70,
            )
        )
        register_import_kind(
            ImportKind(
                code="survey",
                label=_("Trygghetsmätning per område och år (CSV)"),
                suffixes=(".csv",),
                runner="problembild.followup.importers.run_survey_import",
                options=("source",),
                order=71,
            )
        )
