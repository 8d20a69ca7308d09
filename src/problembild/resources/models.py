"""What each area has (staffing, presence), what each unit can give (capacity), and the
allocation scenarios managers run.

A period is a calendar month, stored as its first day. Presence hours are the hours area
officers were (or were planned to be) present in the area in each hour-of-week block
(168 blocks, Monday 00–01 first) summed over the month: the follow-up compares shares, so
a month's totals and an average week say the same thing.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from problembild.areas.models import Area
from problembild.core.models import OrgUnit
from problembild.core.scoping import scoped_by

#: Hour-of-week blocks in a presence profile.
BLOCKS = 168


def first_of_month(value: date) -> date:
    """The month ``value`` lies in, as its first day."""
    return value.replace(day=1)


def validate_month(value: date) -> None:
    if value.day != 1:
        raise ValidationError(_("En period är en månad: ange månadens första dag."), code="not_month")


def validate_profile(value) -> None:
    """168 non-negative hours (or empty)."""
    if value in (None, []):
        return
    if not isinstance(value, list) or len(value) != BLOCKS:
        raise ValidationError(_("En närvaroprofil har 168 timmar (måndag 00–01 först)."), code="profile")
    for hours in value:
        if not isinstance(hours, int | float) or isinstance(hours, bool) or hours < 0 or hours != hours:
            raise ValidationError(_("Timmar måste vara tal ≥ 0."), code="profile_value")


class Staffing(models.Model):
    """An area's area officers (områdespoliser) and their presence in one month."""

    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="staffing", verbose_name=_("område")
    )
    period = models.DateField(_("månad"), validators=[validate_month], db_index=True)
    officers = models.PositiveSmallIntegerField(
        _("områdespoliser"), help_text=_("Tilldelade, i antal personer.")
    )
    fte = models.FloatField(_("årsarbetskrafter"), null=True, blank=True)
    planned = models.JSONField(
        _("planerad närvaro"),
        default=list,
        blank=True,
        validators=[validate_profile],
        help_text=_("Timmar per veckotimme (168 värden, måndag 00–01 först), summerat över månaden."),
    )
    actual = models.JSONField(
        _("faktisk närvaro"),
        default=list,
        blank=True,
        validators=[validate_profile],
        help_text=_("Timmar i området per veckotimme (168 värden), summerat över månaden."),
    )
    hours_outside = models.FloatField(
        _("timmar utanför området"),
        null=True,
        blank=True,
        help_text=_("Områdespolisernas timmar på annat än sitt område under månaden."),
    )
    example = models.BooleanField(_("exempeldata"), default=False)
    source = models.CharField(_("källa"), max_length=300, blank=True)
    history = HistoricalRecords()

    objects = scoped_by("area__org_unit").as_manager()

    class Meta:
        ordering = ["area__name", "-period"]
        constraints = [models.UniqueConstraint(fields=["area", "period"], name="staffing_area_period")]
        verbose_name = _("bemanning")
        verbose_name_plural = _("bemanning")

    def __str__(self) -> str:
        return f"{self.area} {self.period:%Y-%m}"

    @property
    def hours_in_area(self) -> float | None:
        """Hours present in the area in the month (the actual profile's sum), None if not reported."""
        return float(sum(self.actual)) if self.actual else None

    @property
    def planned_hours(self) -> float | None:
        return float(sum(self.planned)) if self.planned else None


class Capacity(models.Model):
    """What a unit can give its vulnerable areas in one month, and the expected increase."""

    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="capacity", verbose_name=_("enhet")
    )
    period = models.DateField(_("månad"), validators=[validate_month], db_index=True)
    officers = models.PositiveIntegerField(
        _("områdespoliser att fördela"), help_text=_("Områdespoliser enheten kan placera i sina områden.")
    )
    hours = models.FloatField(_("timmar tillgängliga"), null=True, blank=True)
    increase = models.IntegerField(
        _("resurstillskott"), default=0, help_text=_("Väntat tillskott (eller minskning) av områdespoliser.")
    )
    example = models.BooleanField(_("exempeldata"), default=False)
    source = models.CharField(_("källa"), max_length=300, blank=True)
    history = HistoricalRecords()

    objects = scoped_by("org_unit").as_manager()

    class Meta:
        ordering = ["org_unit__path", "-period"]
        constraints = [models.UniqueConstraint(fields=["org_unit", "period"], name="capacity_unit_period")]
        verbose_name = _("kapacitet")
        verbose_name_plural = _("kapacitet")

    def __str__(self) -> str:
        return f"{self.org_unit.name} {self.period:%Y-%m}"


class Scenario(models.Model):
    """A saved allocation: who ran it, when, with which parameters, and what came out.

    ``result`` keeps what the page shows (per area: current, proposed, proportional,
    floor, need and the explanation in Swedish and English; the objectives, floors and
    solver status; the marginal officers) so a scenario reads the same later even when the
    data have moved on.
    """

    class Kind(models.TextChoices):
        PROPOSED = "proposed", _("Förslag")
        EXTRA = "extra", _("Nuvarande + tillskott")

    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="scenarios", verbose_name=_("enhet")
    )
    name = models.CharField(_("namn"), max_length=200)
    kind = models.CharField(_("slag"), max_length=20, choices=Kind.choices, default=Kind.PROPOSED)
    period = models.DateField(_("månad"), validators=[validate_month])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(_("skapad av"), max_length=150, blank=True)
    created = models.DateTimeField(_("skapad"), default=timezone.now)
    parameters = models.JSONField(_("parametrar"), default=dict)
    result = models.JSONField(_("resultat"), default=dict)
    example = models.BooleanField(_("exempeldata"), default=False)

    objects = scoped_by("org_unit").as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarier")

    def __str__(self) -> str:
        return f"{self.name} ({self.org_unit.name}, {self.created:%Y-%m-%d})"
