"""The steering chain: strategy → targets → the area's yearly problem picture document →
priorities → citizen promises and activities → quarterly follow-up.

Every row belongs to an org unit or an area and is scoped by it; the records people edit
keep their history (django-simple-history: who, what, when). A problem picture document
carries a ``version`` for optimistic locking (``core.locking``): two people editing it at
once never silently overwrite each other.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from problembild.areas.models import Area
from problembild.core.bilingual import Bilingual as BaseBilingual
from problembild.core.models import OrgUnit
from problembild.core.scoping import scoped_by


class Bilingual(BaseBilingual):
    """The follow-up's bilingual records, with properties for the fields their pages read."""

    @property
    def title(self) -> str:
        return self.text("title")

    @property
    def name(self) -> str:
        return self.text("name")

    @property
    def summary(self) -> str:
        return self.text("summary")

    @property
    def mechanism(self) -> str:
        return self.text("mechanism")

    @property
    def emmie_note(self) -> str:
        return self.text("emmie_note")

    @property
    def measure_text(self) -> str:
        return self.text("measure")


class Goal(Bilingual, models.Model):
    """A direction of the national strategy, or a sub-goal under one (``parent``)."""

    code = models.SlugField(_("kod"), max_length=80, unique=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subgoals",
        verbose_name=_("del av"),
    )
    title_sv = models.CharField(_("rubrik (svenska)"), max_length=200)
    title_en = models.CharField(_("rubrik (engelska)"), max_length=200, blank=True)
    description_sv = models.TextField(_("beskrivning (svenska)"), blank=True)
    description_en = models.TextField(_("beskrivning (engelska)"), blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("mål")
        verbose_name_plural = _("mål")

    def __str__(self) -> str:
        return self.title_sv


class StrategyIndicator(Bilingual, models.Model):
    """How a sub-goal is measured: a problem-picture indicator, a resources or follow-up
    figure, or a manual measure (a survey)."""

    class Kind(models.TextChoices):
        PICTURE = "picture", _("Problembildens indikator")
        RESOURCES = "resources", _("Resurser")
        FOLLOWUP = "followup", _("Uppföljning")
        MANUAL = "manual", _("Manuellt mått (enkät)")

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("mål"))
    code = models.SlugField(_("kod"), max_length=80, unique=True)
    title_sv = models.CharField(_("rubrik (svenska)"), max_length=200)
    title_en = models.CharField(_("rubrik (engelska)"), max_length=200, blank=True)
    kind = models.CharField(_("slag"), max_length=20, choices=Kind.choices)
    indicator = models.CharField(_("indikator"), max_length=40, blank=True)
    statistic = models.CharField(
        _("mått"), max_length=40, blank=True, help_text=_("rate_12m eller count_12m")
    )
    measure = models.CharField(_("mått"), max_length=60, blank=True)
    direction = models.CharField(
        _("bättre är"), max_length=10, choices=[("decrease", _("lägre")), ("increase", _("högre"))]
    )
    example = models.BooleanField(_("exempeldata"), default=False)

    class Meta:
        ordering = ["goal__order", "code"]
        verbose_name = _("strategiindikator")
        verbose_name_plural = _("strategiindikatorer")

    def __str__(self) -> str:
        return self.title_sv


class Target(models.Model):
    """A target for one strategy indicator at one org unit: from a baseline to a value by a year."""

    measure = models.ForeignKey(
        StrategyIndicator, on_delete=models.CASCADE, related_name="targets", verbose_name=_("indikator")
    )
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="targets", verbose_name=_("enhet")
    )
    baseline_year = models.PositiveSmallIntegerField(_("basår"))
    baseline_value = models.FloatField(_("basvärde"), null=True, blank=True)
    target_year = models.PositiveSmallIntegerField(_("målår"))
    target_value = models.FloatField(_("målvärde"), null=True, blank=True)
    target_change_pct = models.FloatField(
        _("förändring i procent"),
        null=True,
        blank=True,
        help_text=_("I stället för ett målvärde: förändring från basvärdet, t.ex. -20 för 20 % lägre."),
    )
    tolerance = models.FloatField(
        _("marginal"),
        default=0.1,
        help_text=_("Andel av den planerade förändringen som räknas som risk, inte avvikelse."),
    )
    note = models.CharField(_("anteckning"), max_length=300, blank=True)
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords()

    objects = scoped_by("org_unit").as_manager()

    class Meta:
        ordering = ["org_unit__path", "measure__code"]
        constraints = [models.UniqueConstraint(fields=["measure", "org_unit"], name="target_measure_unit")]
        verbose_name = _("målvärde")
        verbose_name_plural = _("målvärden")

    def __str__(self) -> str:
        return f"{self.measure} – {self.org_unit.name}"


class PictureDocument(models.Model):
    """An area's local problem picture for one year: the computed figures and what data cannot show."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Utkast")
        ADOPTED = "adopted", _("Fastställd")

    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="documents", verbose_name=_("område")
    )
    year = models.PositiveSmallIntegerField(_("år"))
    version = models.PositiveIntegerField(default=1, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("föregående år"),
    )
    summary = models.TextField(_("sammanfattning"), blank=True)
    dialogue = models.TextField(_("medborgardialog och trygghetsmätning"), blank=True)
    challenges = models.TextField(_("huvudsakliga utmaningar (handlingsplan)"), blank=True)
    measures = models.TextField(_("åtgärder (handlingsplan)"), blank=True)
    resources_plan = models.TextField(_("hur resurserna förstärks (handlingsplan)"), blank=True)
    figures = models.JSONField(_("beräknade siffror"), default=dict, blank=True)
    figures_at = models.DateTimeField(_("siffrorna hämtade"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("senast ändrad"), default=timezone.now)
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords(excluded_fields=["figures"])

    objects = scoped_by("area__org_unit").as_manager()

    class Meta:
        ordering = ["area__name", "-year"]
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="document_area_year")]
        verbose_name = _("lokal problembild")
        verbose_name_plural = _("lokala problembilder")

    def __str__(self) -> str:
        return f"{self.area.name} {self.year}"


class Priority(models.Model):
    """A prioritised problem of the year, with its evidence."""

    document = models.ForeignKey(PictureDocument, on_delete=models.CASCADE, related_name="priorities")
    rank = models.PositiveSmallIntegerField(_("ordning"), default=1)
    title = models.CharField(_("problem"), max_length=200)
    description = models.TextField(_("beskrivning"), blank=True)
    indicators = models.JSONField(_("indikatorer som belägg"), default=list, blank=True)
    hot_spots = models.BooleanField(_("belagt av hot spots"), default=False)
    assessment = models.BooleanField(_("belagt av underrättelsebedömningen"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["document", "rank", "pk"]
        verbose_name = _("prioritering")
        verbose_name_plural = _("prioriteringar")

    def __str__(self) -> str:
        return f"{self.rank}. {self.title}"


class Partner(models.Model):
    """Who the area works with: the municipality, housing companies, schools, social services …"""

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Kommun")
        HOUSING = "housing", _("Bostadsbolag/fastighetsägare")
        SCHOOL = "school", _("Skola")
        SOCIAL = "social", _("Socialtjänst")
        OTHER = "other", _("Annan")

    document = models.ForeignKey(PictureDocument, on_delete=models.CASCADE, related_name="partners")
    kind = models.CharField(_("slag"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("namn"), max_length=200)
    role = models.CharField(_("roll i samverkan"), max_length=300, blank=True)

    class Meta:
        ordering = ["document", "kind", "name"]
        verbose_name = _("samverkanspart")
        verbose_name_plural = _("samverkansparter")

    def __str__(self) -> str:
        return self.name


class Meeting(models.Model):
    """A dated entry of the joint rhythm with the municipality (as in EST)."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("Gemensam lägesbild (vecka)")
        QUARTERLY = "quarterly", _("Kvartalsanalys")
        YEARLY = "yearly", _("Årsuppföljning")
        OTHER = "other", _("Annat möte")

    document = models.ForeignKey(PictureDocument, on_delete=models.CASCADE, related_name="meetings")
    date = models.DateField(_("datum"))
    kind = models.CharField(_("slag"), max_length=20, choices=Kind.choices)
    note = models.CharField(_("anteckning"), max_length=500, blank=True)

    class Meta:
        ordering = ["document", "-date"]
        verbose_name = _("samverkansmöte")
        verbose_name_plural = _("samverkansmöten")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


class Promise(models.Model):
    """A medborgarlöfte: a commitment agreed with the municipality, and the feedback given to residents."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planerat")
        ONGOING = "ongoing", _("Pågår")
        DONE = "done", _("Genomfört")
        DROPPED = "dropped", _("Avbrutet")

    document = models.ForeignKey(PictureDocument, on_delete=models.CASCADE, related_name="promises")
    commitment = models.CharField(_("löfte"), max_length=300)
    owners = models.CharField(_("ansvariga"), max_length=300, blank=True)
    deadline = models.DateField(_("klart senast"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    feedback = models.TextField(_("återkoppling till invånarna"), blank=True)
    feedback_date = models.DateField(_("återkopplat"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["document", "deadline", "pk"]
        verbose_name = _("medborgarlöfte")
        verbose_name_plural = _("medborgarlöften")

    def __str__(self) -> str:
        return self.commitment


class Assessment(models.Model):
    """The intelligence assessment of a document: read by intelligence roles only, every read logged."""

    document = models.OneToOneField(PictureDocument, on_delete=models.CASCADE, related_name="assessment")
    text = models.TextField(_("underrättelsebedömning"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("senast ändrad"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("underrättelsebedömning")
        verbose_name_plural = _("underrättelsebedömningar")

    def __str__(self) -> str:
        return f"{self.document} (underrättelsebedömning)"


class Delegate(models.Model):
    """A user the unit's chief lets edit the unit's problem picture documents."""

    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="delegates", verbose_name=_("enhet")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("användare")
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org_unit", "user"], name="delegate_unit_user")]
        verbose_name = _("ombud")
        verbose_name_plural = _("ombud")

    def __str__(self) -> str:
        return f"{self.user} → {self.org_unit.name}"


class Method(Bilingual, models.Model):
    """A method of the method support (metodstöd) with its evidence rated as EMMIE."""

    code = models.SlugField(_("kod"), max_length=80, unique=True)
    name_sv = models.CharField(_("namn (svenska)"), max_length=200)
    name_en = models.CharField(_("namn (engelska)"), max_length=200, blank=True)
    summary_sv = models.TextField(blank=True)
    summary_en = models.TextField(blank=True)
    mechanism_sv = models.TextField(blank=True)
    mechanism_en = models.TextField(blank=True)
    problems = models.JSONField(_("problem metoden riktas mot"), default=list, blank=True)
    emmie = models.JSONField(_("EMMIE"), default=dict, blank=True)
    emmie_note_sv = models.TextField(blank=True)
    emmie_note_en = models.TextField(blank=True)
    measure_sv = models.TextField(blank=True)
    measure_en = models.TextField(blank=True)
    unit = models.CharField(_("räknas i"), max_length=20, default="hours")

    class Meta:
        ordering = ["name_sv"]
        verbose_name = _("metod")
        verbose_name_plural = _("metoder")

    def __str__(self) -> str:
        return self.name_sv


class Activity(models.Model):
    """Work done in an area with a method: when, how long, by how many, with whom, and why."""

    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="activities", verbose_name=_("område")
    )
    method = models.ForeignKey(
        Method, on_delete=models.PROTECT, related_name="activities", verbose_name=_("metod")
    )
    date = models.DateField(_("datum"), db_index=True)
    hours = models.FloatField(_("timmar"))
    officers = models.PositiveSmallIntegerField(_("poliser"), default=1)
    partners = models.CharField(_("samverkansparter"), max_length=300, blank=True)
    priority = models.ForeignKey(
        Priority,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        verbose_name=_("prioritering"),
    )
    promise = models.ForeignKey(
        Promise,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        verbose_name=_("medborgarlöfte"),
    )
    note = models.CharField(_("anteckning"), max_length=500, blank=True)
    key = models.CharField(
        max_length=64, unique=True, editable=False, help_text="Content hash: imports are idempotent."
    )
    created = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("källa"), max_length=300, blank=True)
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords()

    objects = scoped_by("area__org_unit").as_manager()

    class Meta:
        ordering = ["-date", "area__name"]
        verbose_name = _("aktivitet")
        verbose_name_plural = _("aktiviteter")

    def __str__(self) -> str:
        return f"{self.area.name} {self.date} {self.method.name_sv}"

    def save(self, *args, **kwargs):
        # Imports key a row by its content (idempotent); an activity entered by hand is its own.
        if not self.key:
            self.key = uuid.uuid4().hex
        super().save(*args, **kwargs)


class SurveyResult(models.Model):
    """A safety survey's result for an area and year (e.g. a 0–6 problem index), used as an indicator."""

    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="survey_results", verbose_name=_("område")
    )
    year = models.PositiveSmallIntegerField(_("år"))
    measure = models.SlugField(_("mått"), max_length=60)
    value = models.FloatField(_("värde"))
    source = models.CharField(_("källa"), max_length=300, blank=True)
    example = models.BooleanField(_("exempeldata"), default=False)

    class Meta:
        ordering = ["area__name", "-year", "measure"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year", "measure"], name="survey_area_year_measure")
        ]
        verbose_name = _("trygghetsmätning")
        verbose_name_plural = _("trygghetsmätningar")

    def __str__(self) -> str:
        return f"{self.area.name} {self.year} {self.measure}"


class QuarterlyReport(models.Model):
    """A quarterly follow-up as generated once its quarter had ended: later readings show this."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="quarterly_reports")
    quarter = models.CharField(_("kvartal"), max_length=6)
    generated_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org_unit", "quarter"], name="report_unit_quarter")]
        verbose_name = _("kvartalsrapport")
        verbose_name_plural = _("kvartalsrapporter")

    def __str__(self) -> str:
        return f"{self.org_unit.name} {self.quarter}"


class Evaluation(models.Model):
    """An effect evaluation of a measure in an area: its effect on one indicator against
    comparison areas, with the uncertainty stated (``analysis.effects``)."""

    class Method(models.TextChoices):
        SYNTHETIC = "synthetic_control", _("Syntetisk kontroll")
        DID = "did", _("Skillnad i skillnader (Poisson)")

    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="evaluations", verbose_name=_("område")
    )
    indicator = models.CharField(_("indikator"), max_length=40)
    start = models.DateField(_("åtgärden började"), help_text=_("Första månaden med åtgärden."))
    method = models.CharField(_("metod"), max_length=20, choices=Method.choices, default=Method.DID)
    title = models.CharField(_("åtgärd"), max_length=200)
    priority = models.ForeignKey(
        Priority,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="evaluations",
        verbose_name=_("prioritering"),
    )
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.JSONField(default=dict)
    example = models.BooleanField(_("exempeldata"), default=False)

    objects = scoped_by("area__org_unit").as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("effektutvärdering")
        verbose_name_plural = _("effektutvärderingar")

    def __str__(self) -> str:
        return f"{self.title} ({self.area.name}, {self.indicator}, {self.start:%Y-%m})"
