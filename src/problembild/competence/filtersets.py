"""What the competence pages show: which role, on which date, which table to export."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _

from problembild.core.filters import ChoiceParameter, DateParameter, FilterSet

from .models import StaffRole

UNIT_TABLES = [(t, t) for t in ("competences", "units", "coverage", "people")]
PLAN_TABLES = [(t, t) for t in ("assignments", "courses", "groups")]


class DateFilterSet(FilterSet):
    """The date levels and the profile in force are read on (a person's page)."""

    on = DateParameter(
        label=_("Per datum"),
        help_text="Date the levels and the profile in force are read on (YYYY-MM-DD; default today).",
    )

    def date(self) -> date:
        return self.value("on") or date.today()


class CompetenceFilterSet(DateFilterSet):
    """The role whose gaps are shown (default: every role) and the date they are measured on."""

    role = ChoiceParameter(
        label=_("Roll"),
        choices=StaffRole.choices,
        empty_label=_("Alla roller"),
        help_text="Staff role: intelligence_coordinator, area_officer, municipal_liaison or local_chief.",
    )


ALL_ROLES = "all"


class NeedsFilterSet(CompetenceFilterSet):
    """The national training-needs report: area officers unless another role (or ``all``) is chosen."""

    role = ChoiceParameter(
        label=_("Roll"),
        # Area officers first: an unbound select shows its first choice, and they are the default.
        choices=[
            *sorted(StaffRole.choices, key=lambda c: c[0] != StaffRole.AREA_OFFICER),
            (ALL_ROLES, _("Alla roller")),
        ],
        empty_label=None,
        help_text="Staff role (default area_officer), or `all`.",
    )
    defaults = {"role": StaffRole.AREA_OFFICER.value}

    def chosen_role(self) -> str | None:
        """The chosen role, None for every role."""
        value = self.value("role")
        return None if value == ALL_ROLES else value


class UnitExportFilterSet(CompetenceFilterSet):
    table = ChoiceParameter(label=_("Tabell"), choices=UNIT_TABLES, empty_label=None)
    defaults = {"table": "competences"}


class PlanExportFilterSet(FilterSet):
    table = ChoiceParameter(label=_("Tabell"), choices=PLAN_TABLES, empty_label=None)
    defaults = {"table": "assignments"}
