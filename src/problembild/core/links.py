"""Links that evidence may carry: pages of Problembild itself, never another site."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _


def internal_link(value: str) -> str:
    """``value`` stripped, if it is a path in Problembild (``/…``); ValidationError otherwise.

    A scheme-relative ``//host`` or a backslash (which browsers read as a slash) would leave
    the site, so both are refused.
    """
    link = value.strip()
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise forms.ValidationError(_("Ange en sida i Problembild (börjar med /)."))
    return link
