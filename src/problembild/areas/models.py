"""The register of vulnerable areas: areas, assessment rounds, classifications,
municipalities and population.

Geometries are kept twice: WKB in SWEREF99 TM (EPSG:3006, metres) for analysis, and
GeoJSON in WGS84 for the maps. Shapely reads and writes them; no spatial database
extension is needed, so SQLite and PostgreSQL behave alike.
"""

from __future__ import annotations

import json
from functools import cached_property

import shapely
from django.db import connections, models
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from problembild.core.db import model_sql
from problembild.core.models import OrgUnit
from problembild.core.scoping import unit_q, unit_visible

from .choices import CATEGORY_SEVERITY, STANDARD_CATEGORIES, Direction
from .geometry import from_wkb


class AssessmentRound(models.Model):
    """One published list of vulnerable areas (a list year) and the categories it uses."""

    year = models.PositiveSmallIntegerField(_("år"), unique=True)
    categories = models.JSONField(
        _("kategorier"), default=list, help_text=_("Från lägst till högst allvarlighet.")
    )
    source = models.CharField(_("källa"), max_length=300, blank=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("bedömningsomgång")
        verbose_name_plural = _("bedömningsomgångar")

    def __str__(self) -> str:
        return str(self.year)

    def severity(self, category: str) -> int:
        """Severity of ``category`` comparable across rounds."""
        if category in CATEGORY_SEVERITY:
            return CATEGORY_SEVERITY[category]
        return self.categories.index(category) + 1 if category in self.categories else 0

    @classmethod
    def latest(cls) -> AssessmentRound | None:
        return cls.objects.order_by("-year").first()


class Municipality(models.Model):
    """A Swedish municipality (kommun) with boundary and population (SCB)."""

    code = models.CharField(_("kommunkod"), max_length=4, primary_key=True)
    name = models.CharField(_("namn"), max_length=100, db_index=True)
    county_code = models.CharField(_("länskod"), max_length=2, db_index=True)
    population = models.PositiveIntegerField(_("folkmängd"), null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(_("folkmängd år"), null=True, blank=True)
    geometry = models.BinaryField(_("gräns (SWEREF99 TM, WKB)"), null=True, blank=True)
    geojson = models.TextField(_("gräns (WGS84, GeoJSON)"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("kommun")
        verbose_name_plural = _("kommuner")

    def __str__(self) -> str:
        return self.name


def _area_by_panel_id(panel_id, using: str) -> Area | None:
    """The area with ``panel_id`` and its unit, by one prepared statement.

    Every area page, its API and exports start here: an ORM query (a join, compiled on every
    call) cost several times the database's work.
    """
    try:
        panel_id = int(panel_id)
    except (TypeError, ValueError):
        return None
    connection = connections[using]
    sql, area_fields, unit_fields = model_sql("area by panel id", connection, _area_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, [panel_id])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(area_fields)
    area = Area.from_db(using, area_fields, row[:n])
    area.org_unit = OrgUnit.from_db(using, unit_fields, row[n:])
    return area


def _area_sql(connection) -> tuple[str, list[str], list[str]]:
    """The query of :func:`_area_by_panel_id` and the area's and the unit's fields it reads."""
    q = connection.ops.quote_name
    area, unit = Area._meta, OrgUnit._meta
    columns = [f"a.{q(f.column)}" for f in area.concrete_fields]
    columns += [f"o.{q(f.column)}" for f in unit.concrete_fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {q(area.db_table)} a "
        f"JOIN {q(unit.db_table)} o ON o.{q(unit.pk.column)} = a.{q(area.get_field('org_unit').column)} "
        f"WHERE a.{q(area.get_field('panel_id').column)} = %s"
    )
    return sql, [f.attname for f in area.concrete_fields], [f.attname for f in unit.concrete_fields]


class AreaQuerySet(models.QuerySet):
    def for_user(self, user) -> AreaQuerySet:
        """Areas within the user's organisational scope (the one scoping rule)."""
        return self.filter(unit_q(user, "org_unit"))

    def get_for_user(self, user, **lookup) -> Area:
        """The one area matching ``lookup`` if the user may see it.

        Raises ``Http404`` when no such area exists and ``PermissionDenied`` when it lies
        outside the user's scope, so a foreign area is refused, not hidden behind a 404.
        """
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        # The area comes with its unit, and the unit is checked by the same rule as ``for_user``
        # (``unit_visible``): one query per page instead of three (area, scope check, unit).
        if set(lookup) == {"panel_id"} and not self.query.has_filters():
            area = _area_by_panel_id(lookup["panel_id"], self.db)
        else:
            area = self.select_related("org_unit").filter(**lookup).first()
        if area is None:
            raise Http404("No such area.")
        if not unit_visible(user, area.org_unit):
            raise PermissionDenied("This area is outside your organisational scope.")
        return area

    def keyed(self) -> dict[str, Area]:
        """The areas by panel id (as text) and by exact name: how import files name an area."""
        areas = list(self)
        found = {str(a.panel_id): a for a in areas}
        found.update({a.name: a for a in areas})
        return found

    def current(self) -> AreaQuerySet:
        """Areas classified in the latest assessment round."""
        latest = AssessmentRound.latest()
        if latest is None:
            return self.none()
        return self.filter(classifications__round=latest)

    def in_current_category(self, category: str) -> AreaQuerySet:
        """Areas whose latest classification has ``category``."""
        latest = Classification.objects.filter(area=OuterRef("pk")).order_by("-round__year")
        return self.alias(latest_category=Subquery(latest.values("category")[:1])).filter(
            latest_category=category
        )

    def with_current_category(self) -> AreaQuerySet:
        """Annotate ``current_category`` and ``current_year``: the latest classification of each area."""
        latest = Classification.objects.filter(area=OuterRef("pk")).order_by("-round__year")
        return self.annotate(
            current_category=Subquery(latest.values("category")[:1]),
            current_year=Subquery(latest.values("round__year")[:1]),
        )


# Real figures before synthetic ones, then the newest year: a newer synthetic estimate never
# replaces a published figure (issue 10, item 7). Every reader of "the" population uses this.
PREFERRED_POPULATION_ORDER = ("synthetic", "-year")


class Area(models.Model):
    """A police-defined vulnerable area; ``panel_id`` is stable across list years."""

    panel_id = models.PositiveIntegerField(_("områdes-id"), unique=True)
    name = models.CharField(_("namn"), max_length=200, db_index=True)
    town = models.CharField(_("ort"), max_length=100, blank=True)
    area_code = models.CharField(_("områdeskod"), max_length=20, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="areas",
        verbose_name=_("lokalpolisområde"),
        help_text=_("Enheten som ansvarar för området; styr vem som får se det."),
    )
    municipality = models.ForeignKey(
        Municipality,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="areas",
        verbose_name=_("kommun"),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="splits",
        verbose_name=_("delat från"),
        help_text=_("Området detta område delades ut från i en senare lista."),
    )
    geometry = models.BinaryField(_("gräns (SWEREF99 TM, WKB)"), null=True, blank=True)
    geojson = models.TextField(_("gräns (WGS84, GeoJSON)"), blank=True)
    area_km2 = models.FloatField(_("yta (km²)"), null=True, blank=True)
    source = models.CharField(_("källa"), max_length=300, blank=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("område")
        verbose_name_plural = _("områden")

    def __str__(self) -> str:
        return self.name

    @cached_property
    def shape(self) -> shapely.Geometry | None:
        """The boundary as a shapely geometry in SWEREF99 TM, or None."""
        return from_wkb(self.geometry)

    @property
    def geojson_dict(self) -> dict | None:
        return json.loads(self.geojson) if self.geojson else None

    def history(self) -> list[Classification]:
        return list(self.classifications.select_related("round").order_by("round__year"))

    def latest_population(self) -> Population | None:
        """The figure rates are built on: the latest real one, else the latest synthetic."""
        return self.population.order_by(*PREFERRED_POPULATION_ORDER).first()

    @property
    def name_aliases(self) -> list[str]:
        """Parts of the name that identify the area in free text (e.g. "Rinkeby", "Tensta")."""
        parts: list[str] = []
        for chunk in self.name.replace("(", "/").replace(")", "/").split("/"):
            chunk = chunk.strip()
            if len(chunk) >= 4:
                parts.append(chunk)
        return parts


class Classification(models.Model):
    """An area's category in one assessment round, with its direction of development."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="classifications")
    round = models.ForeignKey(AssessmentRound, on_delete=models.PROTECT, related_name="classifications")
    category = models.CharField(_("kategori"), max_length=60)
    direction = models.CharField(
        _("utvecklingsriktning"), max_length=10, choices=Direction.choices, blank=True
    )
    assessed = models.DateField(_("bedömd"), null=True, blank=True)

    class Meta:
        ordering = ["round__year", "area__name"]
        constraints = [models.UniqueConstraint(fields=["area", "round"], name="one_classification_per_round")]
        verbose_name = _("klassning")
        verbose_name_plural = _("klassningar")

    def __str__(self) -> str:
        return f"{self.area} {self.round.year}: {self.category}"

    def clean(self):
        from django.core.exceptions import ValidationError

        allowed = self.round.categories or list(STANDARD_CATEGORIES)
        if self.category not in allowed:
            raise ValidationError({"category": _("Okänd kategori för %(year)s.") % {"year": self.round.year}})


class Population(models.Model):
    """Residents of an area in a year. Synthetic figures are flagged and shown as such."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="population")
    year = models.PositiveSmallIntegerField(_("år"))
    residents = models.PositiveIntegerField(_("folkmängd"))
    source = models.CharField(_("källa"), max_length=300, blank=True)
    synthetic = models.BooleanField(_("syntetisk"), default=False)

    class Meta:
        ordering = ["area__name", "year"]
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="one_population_per_year")]
        verbose_name = _("folkmängd")
        verbose_name_plural = _("folkmängd")

    def __str__(self) -> str:
        return f"{self.area} {self.year}: {self.residents}"
