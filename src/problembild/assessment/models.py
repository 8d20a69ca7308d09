"""The assessment round: criteria per list year, local answers, Noa's decisions, the new list.

* A :class:`CriteriaSet` belongs to a list year and carries that year's **category set**
  (lowest first: 2015–2023 utsatt, riskområde, särskilt utsatt; 2025 only utsatt and
  särskilt utsatt), the matrix questions (each with a scale in words) and optional
  objective indicators with thresholds.
* A :class:`Round` is opened by Noa with a criteria set, a deadline and a cut-off date.
* Each local police area gives an :class:`Answer` per area (or proposes a new one with a
  boundary): matrix levels, evidence per criterion, the direction of development and a
  proposed category; the objective indicators are filled in at the cut-off. Until it is
  submitted only its own local police area sees and edits it.
* Noa decides each answer's category (:class:`Decision`), with a written reason wherever
  the decision differs from the proposal or from what the objective criteria alone give.
* Publishing makes the decided round the new list (an ``AssessmentRound`` of the register)
  and freezes the round: a published round is read-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from problembild.areas.models import Area, AssessmentRound
from problembild.core.models import OrgUnit
from problembild.core.scoping import scoped_by

NOT_LISTED = ""


class CriteriaSet(models.Model):
    """The criteria and categories of one list year (versioned: a later version replaces an earlier)."""

    year = models.PositiveSmallIntegerField(_("listår"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    categories = models.JSONField(_("kategorier (lägst först)"))
    objective_min = models.PositiveSmallIntegerField(
        _("objektiva kriterier för listning"),
        default=2,
        help_text=_(
            "Så många objektiva kriterier ska vara uppfyllda för att området ska listas (som Danmarks lista)."
        ),
    )
    objective_top = models.PositiveSmallIntegerField(_("objektiva kriterier för högsta kategorin"), default=3)
    decided = models.DateField(_("beslutad"))
    note = models.TextField(_("kommentar"), blank=True)
    example = models.BooleanField(_("exempeldata"), default=False)

    class Meta:
        ordering = ["-year", "-version"]
        constraints = [models.UniqueConstraint(fields=["year", "version"], name="criteriaset_year_version")]
        verbose_name = _("kriterieuppsättning")
        verbose_name_plural = _("kriterieuppsättningar")

    def __str__(self) -> str:
        return f"{self.year} v{self.version}"

    def objective_category(self, met: int, judged: int) -> str | None:
        """What the objective criteria alone give: None when none are judged, else a category or not listed."""
        if judged == 0:
            return None
        if met >= self.objective_top:
            return self.categories[-1]
        if met >= self.objective_min:
            return self.categories[0]
        return NOT_LISTED


class Criterion(models.Model):
    """A matrix question (levels in words) or an objective indicator with a threshold."""

    class Kind(models.TextChoices):
        MATRIX = "matrix", _("Matrisfråga")
        OBJECTIVE = "objective", _("Objektiv indikator")

    class Source(models.TextChoices):
        PICTURE_RATE = "picture_rate", _("Problembilden: händelser per 1 000 invånare, 12 månader")
        PICTURE_TREND = "picture_trend", _("Problembilden: förändring mot året innan, %")
        SOCIO = "socio", _("Socioekonomisk uppgift per område")

    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="criteria")
    code = models.SlugField(_("kod"), max_length=60)
    kind = models.CharField(_("slag"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("rubrik"), max_length=200)
    scale = models.JSONField(_("skala i ord"), default=list, blank=True)
    source = models.CharField(_("källa"), max_length=20, choices=Source.choices, blank=True)
    measure = models.CharField(
        _("mått"),
        max_length=60,
        blank=True,
        help_text=_("Indikatorkod i problembilden, eller socioekonomiskt mått."),
    )
    threshold = models.FloatField(_("tröskel"), null=True, blank=True)
    above = models.BooleanField(_("uppfyllt över tröskeln"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["criteria_set", "kind", "order"]
        constraints = [models.UniqueConstraint(fields=["criteria_set", "code"], name="criterion_set_code")]

    def __str__(self) -> str:
        return self.title

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the threshold (None when there is no value)."""
        if value is None or self.threshold is None:
            return None
        return value >= self.threshold if self.above else value <= self.threshold


class SocioValue(models.Model):
    """A socioeconomic figure for an area and year (imported: employment, education, income …)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="socio_values")
    year = models.PositiveSmallIntegerField(_("år"))
    measure = models.SlugField(_("mått"), max_length=60)
    value = models.FloatField(_("värde"))
    source = models.CharField(_("källa"), max_length=300, blank=True)
    synthetic = models.BooleanField(_("syntetisk"), default=False)

    objects = scoped_by("area__org_unit").as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["area", "year", "measure"], name="socio_area_year_measure")
        ]
        verbose_name = _("socioekonomisk uppgift")
        verbose_name_plural = _("socioekonomiska uppgifter")

    def __str__(self) -> str:
        return f"{self.area} {self.year} {self.measure}={self.value}"


class Round(models.Model):
    """An assessment round: opened by Noa, answered locally, decided, published as the new list."""

    class Status(models.TextChoices):
        OPEN = "open", _("Öppen")
        PUBLISHED = "published", _("Beslutad och publicerad")

    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.PROTECT, related_name="rounds")
    year = models.PositiveSmallIntegerField(_("listår"))
    deadline = models.DateField(_("svar senast"))
    cutoff = models.DateField(_("brytdatum"), help_text=_("Datum de objektiva indikatorerna läses per."))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    opened_by = models.CharField(_("öppnad av"), max_length=150, blank=True)
    opened = models.DateTimeField(_("öppnad"), default=timezone.now)
    published = models.ForeignKey(
        AssessmentRound, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "-pk"]
        verbose_name = _("bedömningsomgång")
        verbose_name_plural = _("bedömningsomgångar")

    def __str__(self) -> str:
        return f"{self.year} ({self.get_status_display()})"

    @property
    def read_only(self) -> bool:
        return self.status != self.Status.OPEN


class Answer(models.Model):
    """A local police area's answer for one area (existing, or a proposed new one)."""

    class Direction(models.TextChoices):
        POSITIVE = "positive", _("Positiv")
        STABLE = "stable", _("Oförändrad")
        NEGATIVE = "negative", _("Negativ")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Utkast")
        SUBMITTED = "submitted", _("Inlämnad")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="answers")
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("lokalpolisområde")
    )
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    proposed_name = models.CharField(_("nytt områdes namn"), max_length=200, blank=True)
    boundary = models.TextField(_("gräns (GeoJSON, WGS84)"), blank=True)
    matrix = models.JSONField(_("matrisens nivåer"), default=dict, blank=True)
    objective = models.JSONField(_("objektiva indikatorer vid brytdatum"), default=dict, blank=True)
    direction = models.CharField(_("utveckling"), max_length=10, choices=Direction.choices, blank=True)
    proposed_category = models.CharField(_("föreslagen kategori"), max_length=60, blank=True)
    municipality_participated = models.BooleanField(_("kommunen deltog"), default=False)
    municipality_note = models.CharField(_("kommunens deltagande"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    submitted = models.DateTimeField(_("inlämnad"), null=True, blank=True)
    submitted_by = models.CharField(_("inlämnad av"), max_length=150, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    objects = scoped_by("org_unit").as_manager()

    class Meta:
        ordering = ["round", "org_unit__path", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "area"], condition=models.Q(area__isnull=False), name="answer_round_area"
            )
        ]
        verbose_name = _("svar")
        verbose_name_plural = _("svar")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.area.name if self.area_id else self.proposed_name


class AnswerEvidence(models.Model):
    """Evidence for one criterion of an answer: text, a link to the problem picture, or a file."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="evidence")
    criterion = models.ForeignKey(
        Criterion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("text"), blank=True)
    link = models.CharField(_("länk"), max_length=300, blank=True)
    file_key = models.CharField(max_length=32, blank=True, editable=False)
    file_name = models.CharField(_("filnamn"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True, editable=False)
    added_by = models.CharField(_("tillagd av"), max_length=150, blank=True)
    added = models.DateTimeField(_("tillagd"), default=timezone.now)
    history = HistoricalRecords()

    objects = scoped_by("answer__org_unit").as_manager()

    class Meta:
        ordering = ["criterion__order", "added"]

    def __str__(self) -> str:
        return self.file_name or self.link or self.text[:60]


class Decision(models.Model):
    """Noa's category for an answer, with the reason wherever it differs from proposal or criteria."""

    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="decision")
    category = models.CharField(_("beslutad kategori"), max_length=60, blank=True)
    reason = models.TextField(_("motivering"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(_("beslutad av"), max_length=150, blank=True)
    decided = models.DateTimeField(_("beslutad"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("beslut")
        verbose_name_plural = _("beslut")

    def __str__(self) -> str:
        return f"{self.answer}: {self.category or '–'}"
