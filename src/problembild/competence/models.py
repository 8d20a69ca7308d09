"""Competence: the catalogue, role profiles, staff, assessed levels, courses and training plans.

A person's level in a competence on a date is the higher of the latest assessment made by
then and what a valid course certificate gives (a certificate counts until it expires), so
an expiring certificate can open a gap. The requirement is the role profile *in force* on
that date: the latest version decided on or before it, so a gap is always measured against
the profile that applied.

Personal data are minimised: a member of staff is a pseudonymous id, a role and where they
work; no name is stored. ``login`` (optional) links the record to a user account, so that
staff can read their own record.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from problembild.areas.models import Area
from problembild.core.bilingual import Bilingual
from problembild.core.models import OrgUnit
from problembild.core.scoping import scoped_by

#: The highest level of the 0–4 scale.
MAX_LEVEL = 4
LEVEL_VALIDATORS = [MinValueValidator(0), MaxValueValidator(MAX_LEVEL)]
#: Days before expiry from which a certificate is flagged.
EXPIRY_WARNING_DAYS = 90


class StaffRole(models.TextChoices):
    """The roles a competence profile is written for (not the system's user roles)."""

    INTELLIGENCE_COORDINATOR = "intelligence_coordinator", _("Underrättelsesamordnare")
    AREA_OFFICER = "area_officer", _("Områdespolis")
    MUNICIPAL_LIAISON = "municipal_liaison", _("Kommunpolis")
    LOCAL_CHIEF = "local_chief", _("Lokalpolisområdeschef")


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    import calendar

    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validate_levels(value) -> None:
    """Five descriptions, one per level 0–4."""
    if (
        not isinstance(value, list)
        or len(value) != MAX_LEVEL + 1
        or not all(isinstance(v, str) for v in value)
    ):
        raise ValidationError(_("Beskriv var och en av nivåerna 0–4 (fem texter)."), code="levels")


class Competence(Bilingual, models.Model):
    """One competence of the catalogue, with its 0–4 scale described in words."""

    code = models.SlugField(_("kod"), max_length=40, unique=True)
    name_sv = models.CharField(_("namn"), max_length=200)
    name_en = models.CharField(_("namn (engelska)"), max_length=200, blank=True)
    description_sv = models.TextField(_("beskrivning"), blank=True)
    description_en = models.TextField(_("beskrivning (engelska)"), blank=True)
    levels_sv = models.JSONField(_("nivåer"), default=list, validators=[validate_levels])
    levels_en = models.JSONField(_("nivåer (engelska)"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("ordning"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("kompetens")
        verbose_name_plural = _("kompetenser")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.text("name")

    @property
    def description(self) -> str:
        return self.text("description")

    def level_text(self, level: int) -> str:
        """The words for ``level`` in the active language."""
        from problembild.core.bilingual import english

        texts = (self.levels_en if english() and self.levels_en else self.levels_sv) or []
        return texts[level] if 0 <= level < len(texts) else str(level)


class RoleProfileQuerySet(models.QuerySet):
    def in_force(self, on: date) -> dict[str, RoleProfile]:
        """Role -> the profile in force on ``on`` (the latest decided on or before it)."""
        found: dict[str, RoleProfile] = {}
        for profile in self.filter(decided__lte=on).order_by("role", "-decided", "-version"):
            found.setdefault(profile.role, profile)
        return found


class RoleProfile(models.Model):
    """The levels a role requires, as decided on a date; a new decision is a new version."""

    role = models.CharField(_("roll"), max_length=40, choices=StaffRole.choices)
    version = models.PositiveSmallIntegerField(_("version"))
    decided = models.DateField(_("beslutad"))
    decided_by = models.CharField(_("beslutad av"), max_length=200, blank=True)
    criticality = models.FloatField(
        _("vikt i utbildningsplanen"),
        default=1.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(10.0)],
        help_text=_("Hur mycket en nivås brist i rollen väger när utbildningsplanen prioriterar."),
    )
    note = models.TextField(_("kommentar"), blank=True)
    example = models.BooleanField(_("exempeldata"), default=False)
    created = models.DateTimeField(_("registrerad"), default=timezone.now)

    objects = RoleProfileQuerySet.as_manager()

    class Meta:
        ordering = ["role", "-version"]
        constraints = [models.UniqueConstraint(fields=["role", "version"], name="roleprofile_role_version")]
        verbose_name = _("rollprofil")
        verbose_name_plural = _("rollprofiler")

    def __str__(self) -> str:
        return f"{self.get_role_display()} v{self.version} ({self.decided})"

    def levels(self) -> dict[int, int]:
        """Competence id -> required level (only competences the profile requires)."""
        return {r.competence_id: r.level for r in self.requirements.all() if r.level > 0}


class Requirement(models.Model):
    """The level one competence requires in one version of a role profile."""

    profile = models.ForeignKey(RoleProfile, on_delete=models.CASCADE, related_name="requirements")
    competence = models.ForeignKey(Competence, on_delete=models.PROTECT, related_name="requirements")
    level = models.PositiveSmallIntegerField(_("krävd nivå"), validators=LEVEL_VALIDATORS)

    class Meta:
        ordering = ["competence__order", "competence__code"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "competence"], name="requirement_profile_competence")
        ]
        verbose_name = _("krav")
        verbose_name_plural = _("krav")

    def __str__(self) -> str:
        return f"{self.competence.code} {self.level}"


class Staff(models.Model):
    """A member of staff under a pseudonymous id: role, unit and the area served."""

    pseudonym = models.CharField(
        _("id"), max_length=40, unique=True, help_text=_("Pseudonymt id; aldrig namn eller personnummer.")
    )
    role = models.CharField(_("roll"), max_length=40, choices=StaffRole.choices)
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="staff", verbose_name=_("enhet")
    )
    area = models.ForeignKey(
        Area,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("område"),
        help_text=_("Det utsatta område personen tjänstgör i (områdespoliser)."),
    )
    login = models.CharField(
        _("inloggning"),
        max_length=150,
        blank=True,
        help_text=_("Användarnamnet som får läsa sin egen post (valfritt)."),
    )
    active = models.BooleanField(_("i tjänst"), default=True)
    example = models.BooleanField(_("exempeldata"), default=False)
    source = models.CharField(_("källa"), max_length=300, blank=True)
    history = HistoricalRecords()

    objects = scoped_by("org_unit").as_manager()

    class Meta:
        ordering = ["pseudonym"]
        constraints = [
            models.UniqueConstraint(
                fields=["login"], condition=~models.Q(login=""), name="staff_login_unique"
            )
        ]
        verbose_name = _("personal")
        verbose_name_plural = _("personal")

    def __str__(self) -> str:
        return self.pseudonym


class Assessment(models.Model):
    """A level assessed for one person in one competence on a date, and by whom."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="assessments")
    competence = models.ForeignKey(Competence, on_delete=models.PROTECT, related_name="assessments")
    level = models.PositiveSmallIntegerField(_("nivå"), validators=LEVEL_VALIDATORS)
    assessed = models.DateField(_("bedömd"))
    assessor = models.CharField(_("bedömd av"), max_length=150, blank=True)
    note = models.CharField(_("kommentar"), max_length=500, blank=True)
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords()

    objects = scoped_by("staff__org_unit").as_manager()

    class Meta:
        ordering = ["-assessed", "competence__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "competence", "assessed"], name="assessment_staff_competence_date"
            )
        ]
        verbose_name = _("bedömning")
        verbose_name_plural = _("bedömningar")

    def __str__(self) -> str:
        return f"{self.staff} {self.competence.code} {self.level} ({self.assessed})"


class Course(Bilingual, models.Model):
    """A course: what it teaches (competences and levels), its length, seats, cost and rounds."""

    code = models.SlugField(_("kod"), max_length=40, unique=True)
    name_sv = models.CharField(_("namn"), max_length=200)
    name_en = models.CharField(_("namn (engelska)"), max_length=200, blank=True)
    days = models.FloatField(_("dagar"), validators=[MinValueValidator(0.0)])
    seats = models.PositiveIntegerField(_("platser per omgång"))
    cost = models.FloatField(_("kostnad per plats (kr)"), validators=[MinValueValidator(0.0)])
    valid_months = models.PositiveSmallIntegerField(
        _("giltighet (månader)"),
        null=True,
        blank=True,
        help_text=_("Hur länge intyget gäller; tomt: gäller tills vidare."),
    )
    example = models.BooleanField(_("exempeldata"), default=False)
    source = models.CharField(_("källa"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("kurs")
        verbose_name_plural = _("kurser")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.text("name")


class CourseOutcome(models.Model):
    """A level of one competence that a course brings its participants to."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="outcomes")
    competence = models.ForeignKey(Competence, on_delete=models.PROTECT, related_name="outcomes")
    level = models.PositiveSmallIntegerField(
        _("nivå"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )

    class Meta:
        ordering = ["competence__order"]
        constraints = [
            models.UniqueConstraint(fields=["course", "competence"], name="outcome_course_competence")
        ]

    def __str__(self) -> str:
        return f"{self.course.code}: {self.competence.code} {self.level}"


class CourseRound(models.Model):
    """One round of a course (its start and end dates); its seats are the course's."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="rounds")
    starts = models.DateField(_("startar"))
    ends = models.DateField(_("slutar"), null=True, blank=True)

    class Meta:
        ordering = ["starts"]
        constraints = [models.UniqueConstraint(fields=["course", "starts"], name="round_course_starts")]

    def __str__(self) -> str:
        return f"{self.course.code} {self.starts}"


class Completion(models.Model):
    """A course a person completed, and when its certificate expires (None: it does not)."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="completions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="completions")
    completed = models.DateField(_("genomförd"))
    expires = models.DateField(_("giltig till"), null=True, blank=True)
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords()

    objects = scoped_by("staff__org_unit").as_manager()

    class Meta:
        ordering = ["-completed"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "course", "completed"], name="completion_staff_course_date"
            )
        ]
        verbose_name = _("genomförd kurs")
        verbose_name_plural = _("genomförda kurser")

    def __str__(self) -> str:
        return f"{self.staff} {self.course.code} ({self.completed})"

    def expiry_state(self, on: date) -> str:
        """``valid``, ``expiring`` (within :data:`EXPIRY_WARNING_DAYS`), ``expired`` or ``permanent``."""
        if self.expires is None:
            return "permanent"
        if self.expires <= on:
            return "expired"
        return "expiring" if (self.expires - on).days <= EXPIRY_WARNING_DAYS else "valid"


class TrainingPlan(models.Model):
    """A computed training plan: who takes which course in a year, and how it compares.

    ``result`` keeps what the page shows (places, per course and area, the baselines, the
    solver status) so a plan reads the same later even when the data have moved on.
    """

    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="training_plans", verbose_name=_("enhet")
    )
    name = models.CharField(_("namn"), max_length=200)
    period = models.PositiveSmallIntegerField(_("år"))
    parameters = models.JSONField(_("parametrar"), default=dict)
    result = models.JSONField(_("resultat"), default=dict)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(_("skapad av"), max_length=150, blank=True)
    created = models.DateTimeField(_("skapad"), default=timezone.now)
    example = models.BooleanField(_("exempeldata"), default=False)

    objects = scoped_by("org_unit").as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("utbildningsplan")
        verbose_name_plural = _("utbildningsplaner")

    def __str__(self) -> str:
        return f"{self.name} ({self.org_unit.name}, {self.period})"
