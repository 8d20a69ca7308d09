"""What the resources page shows: which month, which scope of the rule, which area's week."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _

from problembild.core.filters import ChoiceParameter, FilterSet

SCOPE_CHOICES = [
    ("settings", _("Kategorierna i inställningarna")),
    ("special", _("Endast särskilt utsatta områden")),
]
TABLE_CHOICES = [("rule", "rule"), ("units", "units"), ("presence", "presence")]


class ResourcesFilterSet(FilterSet):
    """The month (``YYYY-MM``, default the latest with staffing), the rule's scope and the area."""

    period = ChoiceParameter(
        label=_("Månad"), choices=[], help_text="Month `YYYY-MM` with staffing (default: the latest)."
    )
    scope = ChoiceParameter(
        label=_("Regeln gäller"),
        choices=SCOPE_CHOICES,
        empty_label=None,
        help_text="`settings` (the categories in OFFICER_RULE_CATEGORIES) or `special` (särskilt utsatta only).",
    )
    area = ChoiceParameter(
        label=_("Veckan för"), choices=[], help_text="Panel id of the area whose week the heat map shows."
    )
    defaults = {"scope": "settings"}

    def __init__(self, *args, periods: list[date] = (), areas: list = (), **kwargs) -> None:
        self.periods, self.areas = list(periods), list(areas)
        super().__init__(*args, **kwargs)

    def configure(self) -> None:
        self.filters["period"].extra["choices"] = [(f"{p:%Y-%m}", f"{p:%Y-%m}") for p in self.periods]
        self.filters["area"].extra.update(
            choices=[(str(a.panel_id), a.name) for a in self.areas], empty_label=_("Alla områden tillsammans")
        )

    def month(self) -> date | None:
        value = self.value("period")
        return date(int(value[:4]), int(value[5:7]), 1) if value else None


class ExportFilterSet(ResourcesFilterSet):
    """The page's filters plus which of its tables to export."""

    table = ChoiceParameter(label=_("Tabell"), choices=TABLE_CHOICES, empty_label=None)
    defaults = {"scope": "settings", "table": "rule"}
