"""The competence pages' tables, shared by each page and its export."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from problembild.core.tables import NumberColumn, PercentColumn, Table, muted
from problembild.picture.tables import AreaColumn, CategoryColumn

from .models import StaffRole
from .standing import AREA_ROLES

ROLE_LABELS = dict(StaffRole.choices)
EXPIRY_LABELS = {
    "valid": gettext_lazy("giltigt"),
    "expiring": gettext_lazy("går ut inom 90 dagar"),
    "expired": gettext_lazy("har gått ut"),
    "permanent": gettext_lazy("tills vidare"),
}


class RoleColumn(tables.Column):
    """A staff role: its label on the page, its code in exports."""

    def render(self, value: str) -> str:
        return str(ROLE_LABELS.get(value, value))

    def value(self, value: str) -> str:
        return value


class StateColumn(tables.Column):
    """A yes/no state as a badge (``ok`` / ``gap``) on the page, ``yes``/``no`` in exports."""

    empty_values = ()

    def __init__(self, *args: Any, yes: str, no: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.yes, self.no = yes, no

    def render(self, value: bool | None) -> SafeString:
        if value is None:
            return muted("–")
        return format_html(
            '<span class="status status-{}">{}</span>',
            "met" if value else "not_met",
            self.yes if value else self.no,
        )

    def value(self, value: bool | None) -> str:
        return "" if value is None else ("yes" if value else "no")


class PersonColumn(tables.Column):
    """A pseudonymous id: a link to the person's gap list on the page, the id in exports."""

    def render(self, value: str) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("competence:person", args=[value]), value)

    def value(self, value: str) -> str:
        return value


class CompetenceTable(Table):
    """Per competence: whom it is required of, who lacks it and by how much."""

    competence = tables.Column(accessor="competence__name", verbose_name=gettext_lazy("Kompetens"))
    code = tables.Column(accessor="competence__code", verbose_name=gettext_lazy("Kod"))
    required = NumberColumn(accessor="required", verbose_name=gettext_lazy("Krävs av"))
    lacking = NumberColumn(accessor="lacking", verbose_name=gettext_lazy("Saknar nivån"))
    share = PercentColumn(accessor="share_lacking", verbose_name=gettext_lazy("Andel som saknar"))
    levels = NumberColumn(accessor="gap_levels", verbose_name=gettext_lazy("Nivåer som fattas"))
    mean_gap = NumberColumn(accessor="mean_gap", verbose_name=gettext_lazy("Medelbrist (nivåer)"), digits=1)

    class Meta(Table.Meta):
        row_header = "competence"
        caption = gettext_lazy("Brister per kompetens")
        attrs = {"class": "data sortable", "id": "competence-gaps"}


class UnitGapTable(Table):
    """Per unit below: staff, who meet their profile, and how many lack each competence."""

    unit = tables.Column(accessor="unit__name", verbose_name=gettext_lazy("Enhet"))
    staff = NumberColumn(accessor="staff", verbose_name=gettext_lazy("Personal"))
    meets = NumberColumn(accessor="meets", verbose_name=gettext_lazy("Uppfyller profilen"))
    share = PercentColumn(accessor="share_meets", verbose_name=gettext_lazy("Andel"))
    levels = NumberColumn(accessor="gap_levels", verbose_name=gettext_lazy("Nivåer som fattas"))

    class Meta(Table.Meta):
        row_header = "unit"
        caption = gettext_lazy("Brister per enhet och kompetens (antal personer som saknar nivån)")
        attrs = {"class": "data sortable", "id": "competence-units"}

    def __init__(self, rows, *, competences, query: str = "", **kwargs: Any) -> None:
        extra = [
            (f"c{j}", NumberColumn(accessor=f"c{j}", verbose_name=comp.name))
            for j, comp in enumerate(competences)
        ]
        data = [
            {
                "unit": r.unit,
                "staff": r.staff,
                "meets": r.meets,
                "share_meets": r.share_meets,
                "gap_levels": r.gap_levels,
                **{f"c{j}": n for j, n in enumerate(r.lacking)},
            }
            for r in rows
        ]
        super().__init__(data, extra_columns=extra, **kwargs)
        self.query = query

    def render_unit(self, value: str, record) -> SafeString:
        url = reverse("competence:unit", args=[record["unit"].code])
        return format_html('<a href="{}{}">{}</a>', url, f"?{self.query}" if self.query else "", value)

    def value_unit(self, value: str) -> str:
        return value


class CoverageTable(Table):
    """Per vulnerable area: is at least one person serving it meeting each role's profile."""

    name = AreaColumn(accessor="area__name", verbose_name=gettext_lazy("Område"))
    category = CategoryColumn(accessor="category", verbose_name=gettext_lazy("Kategori"))
    lpo = tables.Column(accessor="area__org_unit__name", verbose_name=gettext_lazy("Lokalpolisområde"))
    covered = StateColumn(
        accessor="covered",
        verbose_name=gettext_lazy("Alla roller täckta"),
        yes=gettext_lazy("ja"),
        no=gettext_lazy("nej"),
    )

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Täckning per område: minst en person som uppfyller profilen, per roll")
        attrs = {"class": "data sortable", "id": "competence-coverage"}

    def __init__(self, rows, **kwargs: Any) -> None:
        extra = []
        for role in AREA_ROLES:
            label = ROLE_LABELS[role]
            extra += [
                (
                    f"{role}_meeting",
                    CoverCountColumn(accessor=tables.A(f"roles__{role}"), verbose_name=label),
                ),
                (
                    f"{role}_serving",
                    NumberColumn(
                        accessor=tables.A(f"roles__{role}__serving"),
                        verbose_name=gettext_lazy("%(role)s i tjänst") % {"role": label},
                    ),
                ),
            ]
        super().__init__(rows, extra_columns=extra, **kwargs)


class CoverCountColumn(tables.Column):
    """How many of those serving meet the profile: a badge (none meets: a gap) on the page, the count in exports."""

    empty_values = ()

    def render(self, value) -> SafeString:
        if not value.serving:
            return format_html(
                '<span class="status status-not_met">{}</span>', gettext_lazy("ingen i tjänst")
            )
        return format_html(
            '<span class="status status-{}">{}</span>',
            "met" if value.covered else "not_met",
            gettext_lazy("%(meeting)s uppfyller") % {"meeting": value.meeting},
        )

    def value(self, value) -> int:
        return value.meeting


class PeopleTable(Table):
    """Per person: role, where, whether they meet the profile and what they lack."""

    pseudonym = PersonColumn(accessor="staff__pseudonym", verbose_name=gettext_lazy("Id"))
    role = RoleColumn(accessor="staff__role", verbose_name=gettext_lazy("Roll"))
    unit = tables.Column(accessor="staff__org_unit__name", verbose_name=gettext_lazy("Enhet"))
    area = tables.Column(accessor="staff__area__name", verbose_name=gettext_lazy("Område"))
    meets = StateColumn(
        accessor="meets",
        verbose_name=gettext_lazy("Uppfyller profilen"),
        yes=gettext_lazy("ja"),
        no=gettext_lazy("nej"),
    )
    levels = NumberColumn(accessor="gap_levels", verbose_name=gettext_lazy("Nivåer som fattas"))
    lacking = tables.Column(accessor="lacking", verbose_name=gettext_lazy("Saknar"))
    expiring = NumberColumn(accessor="expiring", verbose_name=gettext_lazy("Intyg som går ut"))

    class Meta(Table.Meta):
        row_header = "pseudonym"
        caption = gettext_lazy("Personal och deras brister")
        attrs = {"class": "data sortable", "id": "competence-people"}

    def render_lacking(self, value: list[str]) -> str:
        return ", ".join(value)

    def value_lacking(self, value: list[str]) -> str:
        return "; ".join(value)


class GapTable(Table):
    """One person's levels against the profile in force, competence by competence."""

    competence = tables.Column(accessor="competence", verbose_name=gettext_lazy("Kompetens"))
    required = NumberColumn(accessor="required", verbose_name=gettext_lazy("Krävd nivå"))
    assessed = NumberColumn(accessor="assessed", verbose_name=gettext_lazy("Bedömd nivå"))
    assessed_on = tables.DateColumn(
        accessor="assessed_on", verbose_name=gettext_lazy("Bedömd"), format="Y-m-d"
    )
    assessor = tables.Column(accessor="assessor", verbose_name=gettext_lazy("Bedömd av"))
    certified = NumberColumn(accessor="certified", verbose_name=gettext_lazy("Nivå enligt intyg"))
    current = NumberColumn(accessor="current", verbose_name=gettext_lazy("Nivå"))
    gap = NumberColumn(accessor="gap", verbose_name=gettext_lazy("Brist (nivåer)"))
    expiring = StateColumn(
        accessor="expiring",
        verbose_name=gettext_lazy("Intyg går ut"),
        yes=gettext_lazy("ja"),
        no=gettext_lazy("nej"),
    )
    meaning = tables.Column(accessor="meaning", verbose_name=gettext_lazy("Krävd nivå innebär"))

    class Meta(Table.Meta):
        row_header = "competence"
        caption = gettext_lazy("Nivåer mot rollprofilen")
        attrs = {"class": "data", "id": "person-gaps"}
        row_attrs = {"class": lambda record: "gap-row" if record["gap"] else ""}

    def render_gap(self, value: int) -> SafeString:
        return format_html("<strong>{}</strong>", value) if value else mark_safe("0")

    def value_gap(self, value: int) -> int:
        return value

    def render_expiring(self, value: bool) -> SafeString:
        if not value:
            return mark_safe("")
        return format_html('<span class="status status-expiring">{}</span>', gettext_lazy("ja"))

    def value_expiring(self, value: bool) -> str:
        return "yes" if value else ""


class CompletionTable(Table):
    """A person's completed courses, with the certificates' expiry coloured."""

    course = tables.Column(accessor="course__name", verbose_name=gettext_lazy("Kurs"))
    completed = tables.DateColumn(
        accessor="completed", verbose_name=gettext_lazy("Genomförd"), format="Y-m-d"
    )
    expires = tables.DateColumn(accessor="expires", verbose_name=gettext_lazy("Giltig till"), format="Y-m-d")
    state = tables.Column(accessor="state", verbose_name=gettext_lazy("Intyget"), empty_values=())

    class Meta(Table.Meta):
        row_header = "course"
        caption = gettext_lazy("Genomförda kurser")
        attrs = {"class": "data", "id": "person-courses"}

    def render_state(self, value: str) -> SafeString:
        css = {"expired": "not_met", "expiring": "expiring"}.get(value, "met")
        return format_html('<span class="status status-{}">{}</span>', css, EXPIRY_LABELS.get(value, value))

    def value_state(self, value: str) -> str:
        return value


class AssessmentTable(Table):
    """A person's assessments, newest first."""

    assessed = tables.DateColumn(accessor="assessed", verbose_name=gettext_lazy("Datum"), format="Y-m-d")
    competence = tables.Column(accessor="competence__name", verbose_name=gettext_lazy("Kompetens"))
    level = NumberColumn(accessor="level", verbose_name=gettext_lazy("Nivå"))
    assessor = tables.Column(accessor="assessor", verbose_name=gettext_lazy("Bedömd av"))
    note = tables.Column(accessor="note", verbose_name=gettext_lazy("Kommentar"))

    class Meta(Table.Meta):
        row_header = "assessed"
        caption = gettext_lazy("Bedömningar")
        attrs = {"class": "data", "id": "person-assessments"}


class CourseTable(Table):
    """The courses: what they teach, length, seats, cost and rounds."""

    code = tables.Column(accessor="code", verbose_name=gettext_lazy("Kod"))
    name = tables.Column(accessor="name", verbose_name=gettext_lazy("Kurs"))
    gives = tables.Column(accessor="gives", verbose_name=gettext_lazy("Ger (kompetens: nivå)"))
    days = NumberColumn(accessor="days", verbose_name=gettext_lazy("Dagar"), digits=1)
    seats = NumberColumn(accessor="seats", verbose_name=gettext_lazy("Platser per omgång"))
    cost = NumberColumn(accessor="cost", verbose_name=gettext_lazy("Kostnad per plats (kr)"), grouped=True)
    valid = NumberColumn(
        accessor="valid_months",
        verbose_name=gettext_lazy("Intyg gäller (mån.)"),
        missing=gettext_lazy("tills vidare"),
    )
    rounds = tables.Column(accessor="rounds", verbose_name=gettext_lazy("Omgångar (start)"))
    example = tables.Column(accessor="example", verbose_name=gettext_lazy("Exempel"))

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Kurser")
        attrs = {"class": "data sortable", "id": "courses"}

    def render_gives(self, value: list[tuple[str, int]]) -> SafeString:
        return format_html_join(", ", "{}: {}", value)

    def value_gives(self, value: list[tuple[str, int]]) -> str:
        return "; ".join(f"{name}: {level}" for name, level in value)

    def render_rounds(self, value: list) -> str:
        return ", ".join(f"{d:%Y-%m-%d}" for d in value)

    def value_rounds(self, value: list) -> str:
        return " ".join(f"{d:%Y-%m-%d}" for d in value)

    def render_example(self, value: bool) -> SafeString:
        return (
            muted(gettext_lazy("exempel"), gettext_lazy("Exempeldata (example).")) if value else mark_safe("")
        )

    def value_example(self, value: bool) -> str:
        return "example" if value else ""


class AssignmentTable(Table):
    """A plan's places: who takes which course, what it closes and what it costs."""

    staff = PersonColumn(accessor="staff", verbose_name=gettext_lazy("Id"))
    role = RoleColumn(accessor="role", verbose_name=gettext_lazy("Roll"))
    unit = tables.Column(accessor="unit_name", verbose_name=gettext_lazy("Enhet"))
    area = tables.Column(accessor="area", verbose_name=gettext_lazy("Område"))
    course = tables.Column(accessor="course_name", verbose_name=gettext_lazy("Kurs"))
    competences = tables.Column(accessor="competences", verbose_name=gettext_lazy("Stänger brist i"))
    levels = NumberColumn(accessor="levels", verbose_name=gettext_lazy("Nivåer"))
    gap_closed = NumberColumn(
        accessor="gap_closed", verbose_name=gettext_lazy("Viktad brist som stängs"), digits=2
    )
    renews = StateColumn(
        accessor="renews",
        verbose_name=gettext_lazy("Förnyar intyg"),
        yes=gettext_lazy("ja"),
        no=gettext_lazy("nej"),
    )
    cost = NumberColumn(accessor="cost", verbose_name=gettext_lazy("Kostnad (kr)"), grouped=True)
    days = NumberColumn(accessor="days", verbose_name=gettext_lazy("Dagar"), digits=1)

    class Meta(Table.Meta):
        row_header = "staff"
        caption = gettext_lazy("Utbildningsplanens platser")
        attrs = {"class": "data sortable", "id": "plan-assignments"}

    def render_competences(self, value: list[str]) -> str:
        return ", ".join(value)

    def value_competences(self, value: list[str]) -> str:
        return " ".join(value)


class PlanCourseTable(Table):
    """A plan per course: seats, places in the plan and in each baseline."""

    name = tables.Column(accessor="name", verbose_name=gettext_lazy("Kurs"))
    seats = NumberColumn(accessor="seats", verbose_name=gettext_lazy("Platser under året"))
    places = NumberColumn(accessor="places", verbose_name=gettext_lazy("Planen"))
    lgf = NumberColumn(accessor="largest_gap_first", verbose_name=gettext_lazy("Största brist först"))
    fcfs = NumberColumn(accessor="first_come_first_served", verbose_name=gettext_lazy("Först till kvarn"))
    cost = NumberColumn(accessor="cost", verbose_name=gettext_lazy("Kostnad i planen (kr)"), grouped=True)

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Platser per kurs")
        attrs = {"class": "data sortable", "id": "plan-courses"}


class PlanGroupTable(Table):
    """A plan per area (or local police area): places, days away against the cap, the gap closed."""

    name = tables.Column(accessor="name", verbose_name=gettext_lazy("Område eller enhet"))
    places = NumberColumn(accessor="places", verbose_name=gettext_lazy("Platser"))
    days = NumberColumn(accessor="days", verbose_name=gettext_lazy("Dagar borta"), digits=1)
    cap = NumberColumn(accessor="days_cap", verbose_name=gettext_lazy("Högst (dagar)"), digits=1)
    gap = NumberColumn(accessor="gap", verbose_name=gettext_lazy("Viktad brist"), digits=2)
    closed = NumberColumn(accessor="gap_closed", verbose_name=gettext_lazy("Stängs"), digits=2)

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Tid borta från området och brist som stängs, per område")
        attrs = {"class": "data sortable", "id": "plan-groups"}
