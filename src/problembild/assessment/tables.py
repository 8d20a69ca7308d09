"""The assessment pages' tables, shared by each page and its export."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from problembild.core.tables import NumberColumn, PercentColumn, Table
from problembild.picture.tables import CategoryColumn

KIND_LABELS = {
    "added": gettext_lazy("tillkommit"),
    "removed": gettext_lazy("utgått"),
    "raised": gettext_lazy("höjd kategori"),
    "lowered": gettext_lazy("sänkt kategori"),
    "unchanged": gettext_lazy("oförändrad"),
    "split": gettext_lazy("delat"),
    "merged": gettext_lazy("sammanslaget"),
}


class KindColumn(tables.Column):
    def render(self, value: str) -> SafeString:
        return format_html('<span class="change change-{}">{}</span>', value, KIND_LABELS.get(value, value))

    def value(self, value: str) -> str:
        return value


class ChangeTable(Table):
    """Every area of the two lists and what happened to it."""

    name = tables.Column(accessor="name", verbose_name=gettext_lazy("Område"))
    panel_id = tables.Column(accessor="panel_id", verbose_name=gettext_lazy("Områdes-id"))
    region = tables.Column(accessor="region", verbose_name=gettext_lazy("Region"))
    kind = KindColumn(accessor="kind", verbose_name=gettext_lazy("Förändring"))
    before = CategoryColumn(accessor="from", verbose_name=gettext_lazy("Före"))
    after = CategoryColumn(accessor="to", verbose_name=gettext_lazy("Efter"))
    related = tables.Column(accessor="related", verbose_name=gettext_lazy("Delat i / sammanslaget av"))

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Förändringar mellan listorna, per område")
        attrs = {"class": "data sortable", "id": "diff-changes"}

    def render_name(self, value: str, record) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("picture:area", args=[record["panel_id"]]), value)

    def value_name(self, value: str) -> str:
        return value


class RegionTable(Table):
    """Per region (and the nation): how many areas of each kind of change."""

    region = tables.Column(accessor="region", verbose_name=gettext_lazy("Region"))
    added = NumberColumn(accessor="added", verbose_name=KIND_LABELS["added"])
    removed = NumberColumn(accessor="removed", verbose_name=KIND_LABELS["removed"])
    raised = NumberColumn(accessor="raised", verbose_name=KIND_LABELS["raised"])
    lowered = NumberColumn(accessor="lowered", verbose_name=KIND_LABELS["lowered"])
    unchanged = NumberColumn(accessor="unchanged", verbose_name=KIND_LABELS["unchanged"])
    split = NumberColumn(accessor="split", verbose_name=KIND_LABELS["split"])
    merged = NumberColumn(accessor="merged", verbose_name=KIND_LABELS["merged"])

    class Meta(Table.Meta):
        row_header = "region"
        caption = gettext_lazy("Förändringar per region")
        attrs = {"class": "data", "id": "diff-regions"}


class AnswerTable(Table):
    """A round's answers: who, which area, the proposal, the objective criteria, the decision."""

    name = tables.Column(accessor="name", verbose_name=gettext_lazy("Område"))
    unit = tables.Column(accessor="unit", verbose_name=gettext_lazy("Lokalpolisområde"))
    status = tables.Column(accessor="status", verbose_name=gettext_lazy("Status"))
    previous = CategoryColumn(accessor="previous", verbose_name=gettext_lazy("Nu"))
    proposal = CategoryColumn(accessor="proposal", verbose_name=gettext_lazy("Förslag"))
    objective = tables.Column(accessor="objective", verbose_name=gettext_lazy("Objektiva kriterier"))
    decision = CategoryColumn(accessor="decision", verbose_name=gettext_lazy("Beslut"))
    reason = tables.Column(accessor="reason", verbose_name=gettext_lazy("Motivering"))

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Svar i omgången")
        attrs = {"class": "data sortable", "id": "round-answers"}

    def render_name(self, value: str, record) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("assessment:answer", args=[record["pk"]]), value)

    def value_name(self, value: str) -> str:
        return value


class AgreementTable(Table):
    """How often Noa's decision equals the local proposal, per region and nationally."""

    region = tables.Column(accessor="region", verbose_name=gettext_lazy("Region"))
    n = NumberColumn(accessor="n", verbose_name=gettext_lazy("Beslutade"))
    equal = NumberColumn(accessor="equal", verbose_name=gettext_lazy("Lika"))
    share = PercentColumn(accessor="share_equal", verbose_name=gettext_lazy("Andel lika"))
    kappa = NumberColumn(accessor="kappa", verbose_name=gettext_lazy("Cohens κ"), digits=2, missing="–")

    class Meta(Table.Meta):
        row_header = "region"
        caption = gettext_lazy("Överensstämmelse mellan lokalt förslag och beslut")
        attrs = {"class": "data", "id": "round-agreement"}

    def render_region(self, value: str) -> str:
        return value or str(gettext_lazy("Hela landet"))

    def value_region(self, value: str) -> str:
        return value or "national"
