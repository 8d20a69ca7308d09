"""Forms: opening a round, an answer, evidence, a new area, a decision."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from problembild.core.links import internal_link

from .models import NOT_LISTED, Answer, CriteriaSet, Criterion


class OpenRoundForm(forms.Form):
    criteria_set = forms.ModelChoiceField(
        label=_("Kriterier och kategorier"), queryset=CriteriaSet.objects.all()
    )
    deadline = forms.DateField(label=_("Svar senast"), widget=forms.DateInput(attrs={"type": "date"}))
    cutoff = forms.DateField(
        label=_("Brytdatum för de objektiva indikatorerna"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "open_%s")
        super().__init__(*args, **kwargs)
        self.fields["deadline"].initial = date.today() + timedelta(days=60)
        self.fields["cutoff"].initial = date.today()


def category_choices(criteria_set: CriteriaSet) -> list[tuple[str, str]]:
    return [(c, c) for c in reversed(criteria_set.categories)] + [(NOT_LISTED, _("Inte listat"))]


class AnswerForm(forms.ModelForm):
    """The local answer: a level per matrix question, the direction, the proposal, the municipality."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Answer
        fields = ["direction", "proposed_category", "municipality_participated", "municipality_note"]

    def __init__(self, *args, criteria: list[Criterion], categories: list[tuple[str, str]], **kwargs) -> None:
        kwargs.setdefault("auto_id", "answer_%s")
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for c in criteria:
            self.fields[f"m_{c.code}"] = forms.TypedChoiceField(
                label=c.title,
                choices=[("", "–")] + [(i, f"{i}: {text}") for i, text in enumerate(c.scale)],
                coerce=int,
                required=False,
                initial=self.instance.matrix.get(c.code),
            )
        self.fields["proposed_category"] = forms.ChoiceField(
            label=_("Föreslagen kategori"), choices=[("", "–"), *categories], required=False
        )
        self.fields["direction"].required = False
        if not self.is_bound:
            self.fields["version"].initial = self.instance.version

    def matrix(self) -> dict[str, int]:
        return {
            c.code: self.cleaned_data[f"m_{c.code}"]
            for c in self.criteria
            if self.cleaned_data.get(f"m_{c.code}") is not None
        }


class EvidenceForm(forms.Form):
    criterion = forms.ModelChoiceField(
        label=_("Kriterium"), queryset=Criterion.objects.none(), required=False
    )
    text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    link = forms.CharField(
        label=_("Länk"),
        required=False,
        max_length=300,
        help_text=_("En sida i Problembild, t.ex. problembilden /areas/48/."),
    )
    file = forms.FileField(label=_("Fil"), required=False)

    def __init__(self, *args, criteria=None, **kwargs) -> None:
        kwargs.setdefault("auto_id", "evidence_%s")
        super().__init__(*args, **kwargs)
        if criteria is not None:
            self.fields["criterion"].queryset = criteria

    def clean_link(self) -> str:
        return internal_link(self.cleaned_data["link"])

    def clean(self):
        data = super().clean()
        if not (data.get("text") or data.get("link") or data.get("file")):
            raise forms.ValidationError(_("Skriv en text, ange en länk eller välj en fil."))
        return data


class ProposeForm(forms.Form):
    name = forms.CharField(label=_("Det nya områdets namn"), max_length=200)
    boundary = forms.CharField(
        label=_("Gräns (GeoJSON, WGS84)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Klistra in en polygon, eller ladda upp en GeoJSON-fil."),
    )
    boundary_file = forms.FileField(label=_("Gränsfil (.geojson)"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "propose_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        upload = data.get("boundary_file")
        if upload is not None:
            if upload.size > 5 * 1024 * 1024:
                raise forms.ValidationError(_("Gränsfilen är större än 5 MB."))
            try:
                data["boundary"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("Gränsfilen är inte UTF-8-text (GeoJSON).")) from None
        if not data.get("boundary"):
            raise forms.ValidationError(_("Rita in eller ladda upp gränsen."))
        return data


class DecisionForm(forms.Form):
    category = forms.ChoiceField(label=_("Beslut"), choices=())
    reason = forms.CharField(
        label=_("Motivering"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 40})
    )

    def __init__(self, *args, categories: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = categories
