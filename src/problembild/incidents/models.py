"""The incident store: every incident with its source, indicator group and area.

``area_match`` says how an incident reached its area: ``exact`` (its coordinates lie in the
area's boundary) or ``approximate`` (the police events feed names the area in its text;
the feed never gives an incident's address). Approximate matches are marked as such
wherever they are shown.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import models
from django.utils.translation import gettext_lazy as _

from problembild.areas.models import Area
from problembild.core.models import ImportRecord
from problembild.core.scoping import unit_q

POLISEN_SOURCE = "polisen"
SYNTHETIC_SOURCE = "synthetic"
POLISEN_BASE_URL = "https://polisen.se"
#: Hosts an event may link to (the police's own site).
POLISEN_HOSTS = frozenset({"polisen.se", "www.polisen.se"})


class AreaMatch(models.TextChoices):
    NONE = "", _("Inget område")
    EXACT = "exact", _("Inom områdets gräns")
    APPROXIMATE = "approximate", _("Ungefärlig (området nämns i texten)")


class IncidentQuerySet(models.QuerySet):
    def for_user(self, user) -> IncidentQuerySet:
        """Incidents in areas within the user's scope, plus incidents in no area.

        Incidents outside every area carry no area-level information; they are shown at
        municipality level (the police events feed is public information).
        """
        return self.filter(unit_q(user, "area__org_unit") | models.Q(area__isnull=True))

    def counted(self) -> IncidentQuerySet:
        """Incidents that count in indicators (the taxonomy excludes summaries and notices)."""
        return self.exclude(indicator="")


class Incident(models.Model):
    source = models.CharField(_("källa"), max_length=40)
    external_id = models.CharField(_("id i källan"), max_length=100)
    occurred_at = models.DateTimeField(_("tidpunkt"))
    raw_type = models.CharField(_("typ (källans)"), max_length=120)
    indicator = models.CharField(_("indikator"), max_length=40, blank=True)
    x = models.FloatField(_("x (SWEREF99 TM, m)"), null=True, blank=True)
    y = models.FloatField(_("y (SWEREF99 TM, m)"), null=True, blank=True)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents", db_index=False
    )
    area_match = models.CharField(_("områdesmatchning"), max_length=12, choices=AreaMatch.choices, blank=True)
    municipality_code = models.CharField(_("kommunkod"), max_length=4, blank=True)
    county_code = models.CharField(_("länskod"), max_length=2, blank=True)
    title = models.CharField(_("rubrik"), max_length=300, blank=True)
    summary = models.TextField(_("sammanfattning"), blank=True)
    url = models.CharField(_("länk"), max_length=400, blank=True)
    synthetic = models.BooleanField(_("syntetisk"), default=False)
    content_hash = models.BigIntegerField(editable=False)
    import_record = models.ForeignKey(
        ImportRecord, null=True, blank=True, on_delete=models.SET_NULL, db_index=False, related_name="+"
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="incident_source_id")]
        # Partial: most incidents lie outside every area, and files without municipalities
        # are common; leaving those rows out keeps large imports fast and the indexes small.
        # `area = X` implies `area IS NOT NULL` for both databases' planners.
        indexes = [
            models.Index(
                fields=["area", "indicator", "occurred_at"],
                name="incident_area_ind_time",
                condition=models.Q(area__isnull=False),
            ),
            models.Index(
                fields=["municipality_code", "occurred_at"],
                name="incident_muni_time",
                condition=~models.Q(municipality_code=""),
            ),
            # The area page lists the feed events that name the area: a few among millions.
            models.Index(
                fields=["area", "occurred_at"],
                name="incident_approx_area_time",
                condition=models.Q(area_match="approximate"),
            ),
        ]
        verbose_name = _("händelse")
        verbose_name_plural = _("händelser")

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} {self.raw_type}"

    @property
    def full_url(self) -> str:
        """A link to the event on polisen.se, or "" when the stored address is anything else.

        Only http(s) addresses on the police's own site are linked: an imported
        ``javascript:`` or foreign address must never become a live link on a page.
        """
        url = (self.url or "").strip()
        if url.startswith("/") and not url.startswith("//"):
            url = POLISEN_BASE_URL + url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname in POLISEN_HOSTS:
            return url
        return ""
