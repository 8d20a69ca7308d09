"""Forms of the resources pages: the optimiser's parameters and the staffing and capacity edits."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Capacity, Staffing

ROBUST_LABELS = (
    ("none", _("Nej: dagens behov")),
    ("expected", _("Förväntat över 200 behovsscenarier")),
    ("worst_decile", _("Sämsta tiondelen av 200 behovsscenarier")),
)


class ScenarioForm(forms.Form):
    """What a manager may vary: capacity, caps, turnover, the robust option and extra officers."""

    name = forms.CharField(label=_("Namn"), max_length=200, required=False)
    available = forms.IntegerField(
        label=_("Områdespoliser att fördela"),
        min_value=0,
        max_value=100_000,
        required=False,
        help_text=_("Tomt: enhetens kapacitet för månaden plus väntat tillskott."),
    )
    extra = forms.IntegerField(
        label=_("Eller: nuvarande + så här många"),
        min_value=0,
        max_value=1_000,
        required=False,
        help_text=_(
            "Placerar bara nya områdespoliser; ingen flyttas. Visar vart varje ny går och vad den tillför."
        ),
    )
    cap = forms.IntegerField(
        label=_("Högst per område"),
        min_value=0,
        max_value=10_000,
        required=False,
        help_text=_("Tomt: inget tak."),
    )
    max_change = forms.IntegerField(
        label=_("Högst så många flyttas"),
        min_value=0,
        max_value=100_000,
        required=False,
        help_text=_(
            "Omsättningsgräns: områdespoliser som får lämna sitt nuvarande område. Tomt: ingen gräns."
        ),
    )
    robust = forms.ChoiceField(label=_("Robust mot osäkert behov"), choices=ROBUST_LABELS, initial="none")
    hours_per_officer = forms.FloatField(
        label=_("Närvarotimmar per områdespolis och vecka"),
        min_value=1,
        max_value=60,
        initial=settings.PRESENCE_HOURS_PER_OFFICER,
        required=False,
    )


class StaffingForm(forms.ModelForm):
    class Meta:
        model = Staffing
        fields = ["officers", "fte", "hours_outside"]


class CapacityForm(forms.ModelForm):
    class Meta:
        model = Capacity
        fields = ["officers", "hours", "increase"]
