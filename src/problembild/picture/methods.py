"""Names of the forecast methods as users read them (the code stays beside the name)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

_LABELS = {
    "naive": gettext_lazy("Förra perioden"),
    "history": gettext_lazy("Alla tidigare händelser (baslinjen)"),
    "long_term": gettext_lazy("Långsiktig täthet"),
    "decayed": gettext_lazy("Historik där gamla händelser väger mindre"),
    "prospective": gettext_lazy("Prospektiv: nyligen och nära"),
    "blend": gettext_lazy("Blandning av långsiktig täthet och nyligen"),
    "fitted": gettext_lazy("Anpassad blandning (Poissonregression)"),
    "sepp": gettext_lazy("Självexciterande punktprocess"),
}


def forecast_method_label(code: str | None) -> str:
    """``"Name (code)"`` for a forecast method; an unknown code as it is."""
    if not code:
        return ""
    name = _LABELS.get(code)
    return f"{name} ({code})" if name else code
