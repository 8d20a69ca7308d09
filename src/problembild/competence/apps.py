from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompetenceConfig(AppConfig):
    name = "problembild.competence"
    verbose_name = _("Kompetens (rollprofiler, brister och utbildningsplan)")

    def ready(self) -> None:
        from problembild.core.imports import ImportKind, register_import_kind
        from problembild.core.roles import HR

        kinds = [
            ("staff", _("Personal: pseudonymt id, roll, enhet, område (CSV)"), "run_staff_import"),
            ("competence-assessments", _("Bedömda kompetensnivåer (CSV)"), "run_assessment_import"),
            ("courses", _("Kurser: kompetenser, nivåer, platser, kostnad, datum (CSV)"), "run_course_import"),
            (
                "course-completions",
                _("Genomförda kurser och intygens giltighet (CSV)"),
                "run_completion_import",
            ),
        ]
        for order, (code, label, runner) in enumerate(kinds, start=80):
            register_import_kind(
                ImportKind(
                    code=code,
                    label=label,
                    suffixes=(".csv",),
                    runner=f"problembild.competence.importers.{runner}",
                    options=("source",),
                    order=order,
                    roles=frozenset({HR}),
                )
            )
