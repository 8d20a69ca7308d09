"""What the audit dashboard shows: which report, owner unit, status, and on which date."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _

from problembild.core.filters import ChoiceParameter, DateParameter, FilterSet
from problembild.core.scoping import visible_units

from .models import AuditReport, Measure

TABLES = [(t, t) for t in ("measures", "reports", "recommendations", "owners")]


class AuditFilterSet(FilterSet):
    """Filters over the measures in the user's scope (values the view reads, applied to the states)."""

    report = ChoiceParameter(label=_("Rapport"), choices=[], help_text="Audit report reference.")
    owner = ChoiceParameter(
        label=_("Ansvarig enhet"), choices=[], help_text="Owner org unit code (and the units below it)."
    )
    status = ChoiceParameter(label=_("Status"), choices=Measure.Status.choices, help_text="Measure status.")
    on = DateParameter(
        label=_("Status per datum"), help_text="Show the status as it stood on this date (YYYY-MM-DD)."
    )

    def configure(self) -> None:
        self.filters["report"].extra["choices"] = [(r.reference, str(r)) for r in AuditReport.objects.all()]
        user = self.request.user if self.request is not None else None
        units = (
            visible_units(user).filter(audit_measures__isnull=False).distinct().order_by("path")
            if user
            else []
        )
        self.filters["owner"].extra["choices"] = [(u.code, u.name) for u in units]

    def date(self) -> date | None:
        return self.value("on")


class AuditExportFilterSet(AuditFilterSet):
    table = ChoiceParameter(label=_("Tabell"), choices=TABLES, empty_label=None)
    defaults = {"table": "measures"}
