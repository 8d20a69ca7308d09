"""The indicators as users see them: codes of :mod:`problembild.analysis.vocabulary` with labels
in the active language (Swedish first, English second)."""

from __future__ import annotations

from typing import Final

from django.utils.translation import get_language

from problembild.analysis.vocabulary import ALL, INDICATOR_CODES, INDICATORS

#: Every indicator and ``all`` (the sum of every incident report), in display order.
INDICATOR_CHOICES: Final = (ALL, *INDICATOR_CODES)


def indicator_label(code: str) -> str:
    """The indicator's label in the active language; ``all`` is "Alla händelser"."""
    english = (get_language() or "sv").startswith("en")
    if code == ALL:
        return "All incident reports" if english else "Alla händelser"
    sv, en = INDICATORS.get(code, (code, code))
    return en if english else sv


def indicator_choices(*, with_all: bool = True) -> list[tuple[str, str]]:
    """``(code, label)`` of the indicators (and ``all`` first, unless ``with_all`` is False)."""
    codes = INDICATOR_CHOICES if with_all else INDICATOR_CODES
    return [(code, indicator_label(code)) for code in codes]
