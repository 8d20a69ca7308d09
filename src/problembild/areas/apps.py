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

        from problembild.core.imports import ImportKind, register_import_kind

        register_import_kind(
            ImportKind(
                code="areas",
                label=_("Områdeslista (GeoJSON eller GeoPackage) med år"),
                suffixes=(".geojson", ".json", ".gpkg", ".zip"),
                runner="problembild.areas.importers.run_area_import",
                options=("year", "categories", "map"),
                fields="problembild.areas.importers.AREA_FIELDS",
                order=30,
            )
        )
        register_import_kind(
            ImportKind(
                code="population",
                label=_("Folkmängd per område (CSV)"),
                suffixes=(".csv",),
                runner="problembild.areas.importers.run_population_import",
                options=("year", "source"),
                order=40,
            )
        )
