"""Forms of the follow-up: the yearly document with its priorities, promises, partners and
meetings (inline formsets, saved together under one version check), activities and delegates."""

from __future__ import annotations

from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from problembild.areas.models import Area
from problembild.incidents.choices import indicator_choices

from .models import Activity, Assessment, Evaluation, Meeting, Partner, PictureDocument, Priority, Promise

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DocumentForm(forms.ModelForm):
    """The document's own texts; ``version`` is the version the editor opened."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = PictureDocument
        fields = ["status", "summary", "dialogue", "challenges", "measures", "resources_plan"]
        widgets = {f: forms.Textarea(attrs={"rows": 4}) for f in fields[1:]}


class PriorityForm(forms.ModelForm):
    indicators = forms.MultipleChoiceField(
        label=_("Indikatorer som belägg"), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Priority
        fields = ["rank", "title", "description", "indicators", "hot_spots", "assessment"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicators"].choices = [(c, label) for c, label in indicator_choices() if c != "all"]


class PromiseForm(forms.ModelForm):
    class Meta:
        model = Promise
        fields = ["commitment", "owners", "deadline", "status", "feedback", "feedback_date"]
        widgets = {"deadline": DATE, "feedback_date": DATE, "feedback": forms.Textarea(attrs={"rows": 2})}


class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ["date", "kind", "note"]
        widgets = {"date": DATE}


def formsets(data=None, instance=None) -> dict:
    """The document's inline formsets, prefixed so one POST carries them all."""
    kinds = {
        "priorities": inlineformset_factory(
            PictureDocument, Priority, form=PriorityForm, extra=1, can_delete=True
        ),
        "promises": inlineformset_factory(
            PictureDocument, Promise, form=PromiseForm, extra=1, can_delete=True
        ),
        "partners": inlineformset_factory(
            PictureDocument, Partner, fields=["kind", "name", "role"], extra=1, can_delete=True
        ),
        "meetings": inlineformset_factory(
            PictureDocument, Meeting, form=MeetingForm, extra=1, can_delete=True
        ),
    }
    return {name: cls(data, instance=instance, prefix=name) for name, cls in kinds.items()}


class AssessmentForm(forms.ModelForm):
    class Meta:
        model = Assessment
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 10})}


class ActivityForm(forms.ModelForm):
    """An activity in one of the user's areas; its priority and promise must be the area's."""

    class Meta:
        model = Activity
        fields = ["area", "method", "date", "hours", "officers", "partners", "priority", "promise", "note"]
        widgets = {"date": DATE}

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["area"].queryset = areas
            self.fields["priority"].queryset = Priority.objects.filter(
                document__area__in=areas
            ).select_related("document__area")
            self.fields["promise"].queryset = Promise.objects.filter(document__area__in=areas).select_related(
                "document__area"
            )
        self.fields["priority"].label_from_instance = lambda p: (
            f"{p.document.area.name} {p.document.year}: {p.title}"
        )
        self.fields["promise"].label_from_instance = lambda p: (
            f"{p.document.area.name} {p.document.year}: {p.commitment}"
        )

    def clean(self):
        data = super().clean()
        area = data.get("area")
        for name in ("priority", "promise"):
            item = data.get(name)
            if item is not None and area is not None and item.document.area_id != area.pk:
                self.add_error(name, _("Hör till ett annat område."))
        hours = data.get("hours")
        if hours is not None and not 0 < hours <= 24 * 31:
            self.add_error("hours", _("Timmar måste vara mellan 0 och 744."))
        return data


class DelegateForm(forms.Form):
    username = forms.CharField(label=_("Användarnamn"), max_length=150)


class EvaluationForm(forms.Form):
    """What to evaluate: the area, the indicator, the month the measure began and the method."""

    title = forms.CharField(label=_("Åtgärd"), max_length=200)
    area = forms.ModelChoiceField(label=_("Område"), queryset=None)
    indicator = forms.ChoiceField(label=_("Indikator"))
    start = forms.DateField(
        label=_("Åtgärden började (månad)"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    method = forms.ChoiceField(label=_("Metod"), choices=Evaluation.Method.choices)
    priority = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas if areas is not None else Area.objects.none()
        self.fields["indicator"].choices = [(c, label) for c, label in indicator_choices() if c != "all"]
