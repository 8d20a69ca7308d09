"""Forms: an action on a measure, evidence, and the measure's own fields (with optimistic locking)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from problembild.core.links import internal_link

from .models import Evidence, Measure


class ActionForm(forms.Form):
    """One step of the state machine; ``version`` is the measure's version when the page was opened."""

    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Motivering eller kommentar"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "action_%s")
        super().__init__(*args, **kwargs)


class EvidenceForm(forms.Form):
    """A note, a link to a page in Problembild, or a document (checked by content, stored outside the web root)."""

    kind = forms.ChoiceField(label=_("Slag"), choices=Evidence.Kind.choices)
    text = forms.CharField(
        label=_("Text"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    link = forms.CharField(
        label=_("Länk"),
        required=False,
        max_length=300,
        help_text=_("En sida i Problembild som börjar med /, t.ex. /followup/evaluations/3/."),
    )
    file = forms.FileField(label=_("Fil"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "evidence_%s")
        super().__init__(*args, **kwargs)

    def clean_link(self) -> str:
        return internal_link(self.cleaned_data["link"])

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Evidence.Kind.NOTE and not data.get("text"):
            self.add_error("text", _("Skriv anteckningen."))
        if kind == Evidence.Kind.LINK and not data.get("link"):
            self.add_error("link", _("Ange länken."))
        if kind == Evidence.Kind.FILE and not data.get("file"):
            self.add_error("file", _("Välj en fil."))
        return data


class MeasureForm(forms.ModelForm):
    """The measure's own fields; the status moves only through the actions."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Measure
        fields = ["title", "description", "deadline"]
        widgets = {
            "deadline": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "measure_%s")
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.pk:
            self.fields["version"].initial = self.instance.version
