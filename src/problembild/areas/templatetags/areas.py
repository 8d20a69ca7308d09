"""Template filters of the register: ``{% load areas %}{{ category|category_label }}``."""

from __future__ import annotations

from django import template

from problembild.areas.choices import category_label as _category_label

register = template.Library()


@register.filter
def category_label(category: str | None) -> str:
    """The category's name in the active language (the stored value stays Swedish)."""
    return _category_label(category)
