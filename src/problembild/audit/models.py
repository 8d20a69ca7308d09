"""Audit follow-up: reports, their recommendations, the measures decided, and the evidence.

A measure belongs to an owner org unit and moves through a state machine
(:mod:`problembild.audit.workflow`): its owners take it up to *done* with evidence; only
auditors set *verified* or reopen it with a reason; *not pursued* needs a justification and
an auditor's acceptance. Every change is kept (django-simple-history), so the status on any
past date can be read back; edits carry a ``version`` for optimistic locking.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from problembild.core.models import OrgUnit
from problembild.core.roles import ROLES
from problembild.core.scoping import scoped_by
from problembild.followup.models import StrategyIndicator


class AuditReport(models.Model):
    """An audit report (e.g. the internal audit's review of the work in vulnerable areas)."""

    reference = models.CharField(_("diarienummer"), max_length=60, unique=True)
    title = models.CharField(_("rubrik"), max_length=300)
    issuer = models.CharField(_("utfärdare"), max_length=200, default="Internrevisionen")
    issued = models.DateField(_("beslutad"))
    summary = models.TextField(_("sammanfattning"), blank=True)
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-issued", "reference"]
        verbose_name = _("granskningsrapport")
        verbose_name_plural = _("granskningsrapporter")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class Recommendation(models.Model):
    """One recommendation of a report; it may name a strategy indicator its effect is read on."""

    report = models.ForeignKey(AuditReport, on_delete=models.CASCADE, related_name="recommendations")
    number = models.PositiveSmallIntegerField(_("nummer"))
    text = models.TextField(_("rekommendation"))
    indicator = models.ForeignKey(
        StrategyIndicator,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recommendations",
        verbose_name=_("indikator"),
        help_text=_("Strategins indikator som visar om åtgärderna gav effekt (valfritt)."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="recommendation_report_number")
        ]
        verbose_name = _("rekommendation")
        verbose_name_plural = _("rekommendationer")

    def __str__(self) -> str:
        return f"{self.report.reference}:{self.number}"


class Measure(models.Model):
    """A measure decided on a recommendation: owner, responsible role, deadline, status."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planerad")
        ONGOING = "ongoing", _("Pågår")
        DONE = "done", _("Genomförd")
        VERIFIED = "verified", _("Verifierad")
        NOT_PURSUED = "not_pursued", _("Genomförs inte")

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="measures")
    title = models.CharField(_("åtgärd"), max_length=300)
    description = models.TextField(_("beskrivning"), blank=True)
    owner = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="audit_measures", verbose_name=_("ansvarig enhet")
    )
    responsible_role = models.CharField(_("ansvarig roll"), max_length=40, choices=list(ROLES.items()))
    deadline = models.DateField(_("klart senast"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    started = models.DateField(_("påbörjad"), null=True, blank=True)
    justification = models.TextField(
        _("motivering"),
        blank=True,
        help_text=_("Varför åtgärden inte genomförs (krävs för 'Genomförs inte')."),
    )
    accepted = models.BooleanField(
        _("godtagen av revisor"),
        default=False,
        help_text=_("Revisorn har godtagit att åtgärden inte genomförs."),
    )
    reason = models.TextField(_("senaste motivering från revisor"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    changed = models.DateTimeField(_("ändrad"), default=timezone.now)
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords()

    objects = scoped_by("owner").as_manager()

    class Meta:
        ordering = ["deadline", "pk"]
        verbose_name = _("åtgärd")
        verbose_name_plural = _("åtgärder")

    def __str__(self) -> str:
        return self.title

    @property
    def closed(self) -> bool:
        """Verified, or not pursued with the auditor's acceptance: nothing more is owed."""
        return self.status == self.Status.VERIFIED or (
            self.status == self.Status.NOT_PURSUED and self.accepted
        )


class Evidence(models.Model):
    """What shows a measure was carried out: a note, a link to a follow-up record, or a file.

    Files are stored outside the web root (:mod:`problembild.core.uploads`) under a random
    key and served only as downloads.
    """

    class Kind(models.TextChoices):
        NOTE = "note", _("Anteckning")
        LINK = "link", _("Länk till uppföljningen")
        FILE = "file", _("Fil")

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(_("slag"), max_length=10, choices=Kind.choices)
    text = models.TextField(_("text"), blank=True)
    link = models.CharField(
        _("länk"),
        max_length=300,
        blank=True,
        help_text=_("En sida i Problembild, t.ex. /followup/evaluations/3/."),
    )
    file_key = models.CharField(max_length=32, blank=True, editable=False)
    file_name = models.CharField(_("filnamn"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True, editable=False)
    size = models.PositiveIntegerField(default=0, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_by_name = models.CharField(_("tillagd av"), max_length=150, blank=True)
    added = models.DateTimeField(_("tillagd"), default=timezone.now)
    example = models.BooleanField(_("exempeldata"), default=False)
    history = HistoricalRecords()

    objects = scoped_by("measure__owner").as_manager()

    class Meta:
        ordering = ["-added", "-pk"]
        verbose_name = _("underlag")
        verbose_name_plural = _("underlag")

    def __str__(self) -> str:
        return self.file_name or self.link or self.text[:60]
