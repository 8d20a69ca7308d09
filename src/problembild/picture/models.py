"""Cached results of the analytics, filled by ``problembild refresh``.

Pages and the API read these rows; they never run the analytics on request.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from problembild.areas.models import Area
from problembild.core.models import OrgUnit


class IndicatorValue(models.Model):
    """One indicator's count in one area and period, with rate and change.

    ``rate`` is per 1,000 residents (None where population is unknown); ``p_previous`` and
    ``p_last_year`` are exact conditional Poisson (binomial) test p-values for the change
    versus the previous period and the same period last year.
    """

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="indicator_values")
    indicator = models.CharField(max_length=40)
    period = models.CharField(max_length=8)
    period_start = models.DateField()
    count = models.PositiveIntegerField()
    rate = models.FloatField(null=True)
    previous = models.PositiveIntegerField(null=True)
    last_year = models.PositiveIntegerField(null=True)
    p_previous = models.FloatField(null=True)
    p_last_year = models.FloatField(null=True)
    mark = models.CharField(
        max_length=2, blank=True, help_text="↑/↓ when the change versus last year is significant"
    )
    share_of_municipality = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area", "indicator", "period", "period_start"], name="one_value_per_period"
            )
        ]
        indexes = [models.Index(fields=["period", "period_start", "indicator"], name="indicator_period")]
        verbose_name = _("indikatorvärde")
        verbose_name_plural = _("indikatorvärden")

    def __str__(self) -> str:
        return f"{self.area_id} {self.indicator} {self.period} {self.period_start}: {self.count}"


class AreaPicture(models.Model):
    """The computed problem picture of one area (a JSON document read by the area page)."""

    area = models.OneToOneField(Area, on_delete=models.CASCADE, related_name="picture")
    computed_at = models.DateTimeField(default=timezone.now)
    fingerprint = models.CharField(max_length=64, help_text="Incidents and population it was computed from.")
    need_index = models.FloatField(null=True)
    data = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("områdets problembild")
        verbose_name_plural = _("områdenas problembilder")

    def __str__(self) -> str:
        return f"{self.area} ({self.computed_at:%Y-%m-%d %H:%M})"


class UnitPicture(models.Model):
    """Aggregated figures of an org unit (nation, region, polisområde) over its areas."""

    unit = models.OneToOneField(OrgUnit, on_delete=models.CASCADE, related_name="picture")
    computed_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.unit} ({self.computed_at:%Y-%m-%d %H:%M})"


class RefreshRun(models.Model):
    """One run of ``problembild refresh``: what it read, what it recomputed, how long it took.

    A run is ``running`` until it finishes or fails; a run whose process is gone (killed)
    is marked ``failed`` by the next refresh on the same host.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Pågår")
        FINISHED = "finished", _("Klar")
        FAILED = "failed", _("Avbruten")

    started_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    host = models.CharField(max_length=255, blank=True, help_text="Machine the run's process ran on.")
    pid = models.PositiveIntegerField(null=True, help_text="The run's process id on that host.")
    finished_at = models.DateTimeField(null=True)
    incidents = models.PositiveIntegerField(default=0)
    areas_recomputed = models.PositiveIntegerField(default=0)
    areas_unchanged = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True)
    settings = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"refresh {self.started_at:%Y-%m-%d %H:%M}"


class StoreVersion(models.Model):
    """A counter of the changes to stored incidents, raised by database triggers.

    Every ``UPDATE`` and ``DELETE`` of the incident table raises ``version`` (the triggers
    of migration 0003, whatever client writes), an ``INSERT`` does not: new rows have higher
    ids. The refresh keeps the incident columns it read between runs (``refresh/snapshot.py``)
    and reads only the rows above the kept id while ``(token, version)`` is as it was.
    One row; ``token`` is new whenever the row is created again, so a database emptied and
    filled again never matches an old snapshot.

    SQLite has only row triggers: there the first changed row after a refresh read the
    version raises it and sets ``changed``, and the other rows find it set and do nothing
    (a mass delete costs 0.4 µs a row more, not 0.8); the refresh clears it when it reads.
    """

    token = models.CharField(max_length=32)
    version = models.BigIntegerField(default=0)
    changed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.token}:{self.version}"
