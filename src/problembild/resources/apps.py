from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResourcesConfig(AppConfig):
    name = "problembild.resources"
    verbose_name = _("Resurser (områdespoliser och närvaro)")

    def ready(self) -> None:
        from problembild.core.imports import ImportKind, register_import_kind

        register_import_kind(
            ImportKind(
                code="staffing",
                label=_("Bemanning per område och månad (CSV)"),
                suffixes=(".csv",),
                runner="problembild.resources.importers.run_staffing_import",
                options=("source",),
                order=60,
            )
        )
        register_import_kind(
            ImportKind(
                code="presence",
                label=_("Närvaro per veckotimme, område och månad (CSV)"),
                suffixes=(".csv",),
                runner="problembild.resources.importers.run_presence_import",
                options=("source",),
                order=61,
            )
        )
        register_import_kind(
            ImportKind(
                code="capacity",
                label=_("Kapacitet per enhet och månad (CSV)"),
                suffixes=(".csv",),
                runner="problembild.resources.importers.run_capacity_import",
                options=("source",),
                order=62,
            )
        )
