from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "problembild.incidents"
    verbose_name = _("Händelser")

    def ready(self) -> None:
        from problembild.core.imports import ImportKind, register_import_kind

        register_import_kind(
            ImportKind(
                code="incidents",
                label=_("Händelser (CSV, Parquet eller GeoJSON)"),
                suffixes=(".csv", ".csv.gz", ".parquet", ".geojson", ".json"),
                runner="problembild.incidents.importers.run_import",
                options=("source", "map"),
                fields="problembild.incidents.rows.FIELDS",
                order=10,
            )
        )
        register_import_kind(
            ImportKind(
                code="polisen-events",
                label=_("Polisens händelseflöde (JSON eller .json.gz)"),
                suffixes=(".json", ".json.gz"),
                runner="problembild.incidents.polisen.run_import",
                order=20,
            )
        )
