"""Forms: an assessment, a new version of a role profile, and a training plan's limits."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MAX_LEVEL, Assessment, Competence, RoleProfile, StaffRole

LEVEL_CHOICES = [(i, str(i)) for i in range(MAX_LEVEL + 1)]


class AssessmentForm(forms.ModelForm):
    """A level assessed for the person in one competence (the assessor is the signed-in user)."""

    level = forms.TypedChoiceField(label=_("Nivå"), choices=LEVEL_CHOICES, coerce=int)

    class Meta:
        model = Assessment
        fields = ["competence", "level", "assessed", "note"]
        widgets = {"assessed": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "assess_%s")
        super().__init__(*args, **kwargs)
        self.fields["competence"].queryset = Competence.objects.all()
        self.fields["assessed"].initial = date.today()

    def clean_assessed(self) -> date:
        value = self.cleaned_data["assessed"]
        if value > date.today():
            raise forms.ValidationError(_("En bedömning kan inte ligga i framtiden."))
        return value


class ProfileForm(forms.Form):
    """A new version of a role's profile: the decision, its weight and a level per competence."""

    decided = forms.DateField(label=_("Beslutad"), widget=forms.DateInput(attrs={"type": "date"}))
    decided_by = forms.CharField(label=_("Beslutad av"), max_length=200)
    criticality = forms.FloatField(
        label=_("Vikt i utbildningsplanen"), min_value=0, max_value=10, initial=1.0
    )
    note = forms.CharField(label=_("Kommentar"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, competences: list[Competence], current: dict[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.competences = competences
        for comp in competences:
            self.fields[f"level_{comp.pk}"] = forms.TypedChoiceField(
                label=comp.name,
                choices=LEVEL_CHOICES,
                coerce=int,
                initial=(current or {}).get(comp.pk, 0),
                help_text=_("0 = krävs inte"),
            )

    def levels(self) -> dict[int, int]:
        """Competence id -> required level (> 0 only)."""
        return {
            c.pk: self.cleaned_data[f"level_{c.pk}"]
            for c in self.competences
            if self.cleaned_data[f"level_{c.pk}"]
        }

    def clean(self):
        data = super().clean()
        if not self.errors and not any(data.get(f"level_{c.pk}") for c in self.competences):
            raise forms.ValidationError(_("En profil kräver minst en kompetens."))
        return data


class PlanForm(forms.Form):
    """The limits of a training plan for one year."""

    name = forms.CharField(label=_("Namn"), max_length=200, required=False)
    period = forms.IntegerField(label=_("År"), min_value=2000, max_value=2100)
    role = forms.ChoiceField(
        label=_("Roll"), choices=[("", _("Alla roller")), *StaffRole.choices], required=False
    )
    budget = forms.FloatField(
        label=_("Budget (kr)"), min_value=0, required=False, help_text=_("Tomt: ingen gräns.")
    )
    max_days_per_person = forms.FloatField(label=_("Högst dagar per person"), min_value=0.5, initial=10)
    away_share = forms.FloatField(
        label=_("Högst andel av områdets arbetsdagar"),
        min_value=0.001,
        max_value=1,
        initial=0.05,
        help_text=_("Tid borta från området: andel av personalens arbetsdagar (210 per år)."),
    )
    expiry_weight = forms.FloatField(
        label=_("Vikt för intyg som går ut"), min_value=1, max_value=10, initial=1.5
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "plan_%s")
        super().__init__(*args, **kwargs)
        self.fields["period"].initial = date.today().year + 1


def next_version(role: str) -> int:
    last = (
        RoleProfile.objects.filter(role=role).order_by("-version").values_list("version", flat=True).first()
    )
    return (last or 0) + 1
