from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "problembild.assessment"
    verbose_name = _("Bedömningsomgång (kriterier, förslag, beslut, ny lista)")

    def ready(self) -> None:
        from problembild.core.imports import ImportKind, register_import_kind
        from problembild.core.uploads import delete_files_with

        from .models import AnswerEvidence

        delete_files_with(AnswerEvidence)

        register_import_kind(
            ImportKind(
                code="socioeconomic",
                label=_("Socioekonomiska uppgifter per område och år (CSV)"),
                suffixes=(".csv",),
                runner="problembild.assessment.importers.run_socio_import",
                options=("source",),
                order=90,
            )
        )
