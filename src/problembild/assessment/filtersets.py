"""The list diff's choice of lists (the register's list years) and table."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from problembild.areas.models import AssessmentRound
from problembild.core.filters import ChoiceParameter, FilterSet


class DiffFilterSet(FilterSet):
    """From which list to which (default: the two latest)."""

    from_year = ChoiceParameter(
        label=_("Från listan"), choices=[], empty_label=None, help_text="Earlier list year."
    )
    to_year = ChoiceParameter(
        label=_("Till listan"), choices=[], empty_label=None, help_text="Later list year."
    )

    def configure(self) -> None:
        years = [str(y) for y in AssessmentRound.objects.order_by("-year").values_list("year", flat=True)]
        for name in ("from_year", "to_year"):
            self.filters[name].extra["choices"] = [(y, y) for y in years]
        self.defaults = {
            "to_year": years[0] if years else None,
            "from_year": years[1] if len(years) > 1 else None,
        }

    def years(self) -> tuple[int, int] | None:
        a, b = self.value("from_year"), self.value("to_year")
        return (int(a), int(b)) if a and b else None


class DiffExportFilterSet(DiffFilterSet):
    table = ChoiceParameter(
        label=_("Tabell"), choices=[("changes", "changes"), ("regions", "regions")], empty_label=None
    )

    defaults = {"table": "changes"}
