"""The audit pages' tables, shared by each page and its export."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from problembild.core.tables import NumberColumn, PercentColumn, Table

from .models import Measure

STATUS_LABELS = dict(Measure.Status.choices)


class StatusColumn(tables.Column):
    """A measure's status as a badge on the page (with "awaiting acceptance" when due), its code in exports."""

    empty_values = ()

    def render(self, value: str, record) -> SafeString:
        label = STATUS_LABELS.get(value, value)
        if value == Measure.Status.NOT_PURSUED and not record.get("accepted"):
            label = format_html("{} ({})", label, gettext_lazy("inväntar revisorn"))
        return format_html('<span class="status status-{}">{}</span>', value, label)

    def value(self, value: str) -> str:
        return value


class MeasureTable(Table):
    """The measures: what, on which recommendation, who owns it, by when, where it stands."""

    title = tables.Column(accessor="title", verbose_name=gettext_lazy("Åtgärd"))
    recommendation = tables.Column(accessor="recommendation", verbose_name=gettext_lazy("Rekommendation"))
    owner = tables.Column(accessor="owner", verbose_name=gettext_lazy("Ansvarig enhet"))
    role = tables.Column(accessor="role", verbose_name=gettext_lazy("Ansvarig roll"))
    deadline = tables.DateColumn(
        accessor="deadline", verbose_name=gettext_lazy("Klart senast"), format="Y-m-d"
    )
    status = StatusColumn(accessor="status", verbose_name=gettext_lazy("Status"))
    overdue = NumberColumn(accessor="days_overdue", verbose_name=gettext_lazy("Dagar försenad"))
    evidence = NumberColumn(accessor="evidence", verbose_name=gettext_lazy("Underlag"))

    class Meta(Table.Meta):
        row_header = "title"
        caption = gettext_lazy("Åtgärder")
        attrs = {"class": "data sortable", "id": "audit-measures"}
        row_attrs = {"class": lambda record: "overdue" if record.get("days_overdue") else ""}

    def render_title(self, value: str, record) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("audit:measure", args=[record["pk"]]), value)

    def value_title(self, value: str) -> str:
        return value


class _CountsTable(Table):
    """Measures per group: how many, per status, overdue and closed."""

    total = NumberColumn(accessor="total", verbose_name=gettext_lazy("Åtgärder"))
    planned = NumberColumn(accessor="planned", verbose_name=STATUS_LABELS[Measure.Status.PLANNED])
    ongoing = NumberColumn(accessor="ongoing", verbose_name=STATUS_LABELS[Measure.Status.ONGOING])
    done = NumberColumn(accessor="done", verbose_name=STATUS_LABELS[Measure.Status.DONE])
    verified = NumberColumn(accessor="verified", verbose_name=STATUS_LABELS[Measure.Status.VERIFIED])
    not_pursued = NumberColumn(accessor="not_pursued", verbose_name=STATUS_LABELS[Measure.Status.NOT_PURSUED])
    overdue = NumberColumn(accessor="overdue", verbose_name=gettext_lazy("Försenade"))
    closed = PercentColumn(accessor="share_closed", verbose_name=gettext_lazy("Avslutade"))


class ReportTable(_CountsTable):
    name = tables.Column(accessor="name", verbose_name=gettext_lazy("Rapport"))

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Status per rapport")
        attrs = {"class": "data", "id": "audit-reports"}
        sequence = ("name", "...")


class RecommendationTable(_CountsTable):
    name = tables.Column(accessor="name", verbose_name=gettext_lazy("Rekommendation"))
    indicator = tables.Column(accessor="indicator", verbose_name=gettext_lazy("Indikator"))

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Status per rekommendation")
        attrs = {"class": "data", "id": "audit-recommendations"}
        sequence = ("name", "...", "indicator")


class OwnerTable(_CountsTable):
    name = tables.Column(accessor="name", verbose_name=gettext_lazy("Ansvarig enhet"))
    due_soon = NumberColumn(accessor="due_soon", verbose_name=gettext_lazy("Snart förfallna"))

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Status per ansvarig enhet")
        attrs = {"class": "data sortable", "id": "audit-owners"}
        sequence = ("name", "...", "due_soon")


class EvidenceTable(Table):
    """A measure's evidence: notes, links to follow-up records, and files (downloads only)."""

    added = tables.DateTimeColumn(accessor="added", verbose_name=gettext_lazy("Tillagd"), format="Y-m-d H:i")
    kind = tables.Column(accessor="kind", verbose_name=gettext_lazy("Slag"))
    content = tables.Column(accessor="pk", verbose_name=gettext_lazy("Underlag"))
    by = tables.Column(accessor="added_by_name", verbose_name=gettext_lazy("Av"))

    class Meta(Table.Meta):
        row_header = "added"
        caption = gettext_lazy("Underlag")
        attrs = {"class": "data", "id": "audit-evidence"}

    def render_kind(self, value: str, record) -> str:
        return record.get_kind_display()

    def value_kind(self, value: str) -> str:
        return value

    def render_content(self, value: int, record) -> SafeString:
        if record.kind == "file":
            return format_html(
                '<a href="{}" download>{}</a> ({} kB)',
                reverse("audit:evidence_file", args=[record.pk]),
                record.file_name,
                max(1, round(record.size / 1024)),
            )
        if record.kind == "link":
            return format_html('<a href="{}">{}</a> {}', record.link, record.link, record.text)
        return format_html("{}", record.text)

    def value_content(self, record) -> str:
        return record.file_name or record.link or record.text
