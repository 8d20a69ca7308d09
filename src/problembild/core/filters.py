"""Filters declared once: django-filter FilterSets shared by a page, its export and the API.

Each app declares its FilterSets in ``filtersets.py``, subclassing :class:`FilterSet`. A
page builds one from ``request.GET``, shows the bound form (a refused value is a form
error beside its field and is named in :attr:`FilterSet.ignored`; it is never applied
and never replaced by a silent default), and its export builds the same FilterSet from
the same query string. An API route declares its query parameters with
:func:`query_schema` (generated from the FilterSet, so the OpenAPI names exactly the
filters the page has) and calls :func:`filter_or_422`, which answers 422 naming the
parameter instead of ignoring it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import django_filters
from django import forms
from django.core.validators import EMPTY_VALUES
from django.db import models
from ninja import Schema
from ninja.errors import HttpError
from pydantic import Field, create_model

__all__ = [
    "BooleanParameter",
    "ChoiceParameter",
    "DateParameter",
    "FilterSet",
    "filter_or_422",
    "query_schema",
    "rename_filters",
]

#: Dates a filter accepts: later ones overflow date arithmetic (``to + 1 day``) and
#: earlier ones hold no police data.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2100, 12, 31)


class ChoiceParameter(django_filters.ChoiceFilter):
    """A validated choice that the view reads (``FilterSet.value``) instead of filtering rows.

    For parameters that select what is shown (indicator, period) rather than which rows.
    """

    def filter(self, qs, value):
        return qs


class DateField(forms.DateField):
    """An ISO date (``YYYY-MM-DD``) between :data:`FIRST_DAY` and :data:`LAST_DAY`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(
                "Datumet måste ligga mellan %(first)s och %(last)s.",
                code="out_of_range",
                params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            )


class DateParameter(django_filters.DateFilter):
    """A date filter with :class:`DateField` (ISO format, bounded)."""

    field_class = DateField


class BooleanParameter(django_filters.BooleanFilter):
    """``true``/``false`` (also ``1``/``0``, ``yes``/``no``, as the API's schema accepts)."""

    field_class = forms.TypedChoiceField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "choices",
            [(v, v) for v in ("true", "false", "1", "0", "yes", "no", "on", "off", "True", "False")],
        )
        kwargs.setdefault("coerce", lambda v: v.lower() in ("true", "1", "yes", "on"))
        kwargs.setdefault("empty_value", None)
        super().__init__(*args, **kwargs)


class FilterSet(django_filters.FilterSet):
    """A FilterSet whose refused values are reported, never applied.

    ``defaults`` maps a filter to the value used when the parameter is absent (or empty):
    it is applied to the queryset and returned by :meth:`value`. :meth:`configure` is the
    place to set choices that depend on the request (the user's units, the stored types).
    """

    defaults: dict[str, Any] = {}

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.configure()

    def configure(self) -> None:
        """Set request-dependent choices on ``self.filters[...].extra`` (before the form is built)."""

    def filter_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        for name in self.filters:
            queryset = self.filters[name].filter(queryset, self.value(name))
        return queryset

    def value(self, name: str) -> Any:
        """The valid value of filter ``name``, or its default when it is absent or refused."""
        value = None
        if self.is_bound and self.form.errors is not None:  # .errors validates the form
            value = self.form.cleaned_data.get(name)
        if value in EMPTY_VALUES:
            return self.defaults.get(name, value)
        return value

    def values(self) -> dict[str, Any]:
        """Every filter's :meth:`value`."""
        return {name: self.value(name) for name in self.filters}

    @property
    def ignored(self) -> list[str]:
        """``name=value`` of each refused parameter, in the order the filters are declared."""
        if not self.is_bound or self.form.is_valid():
            return []
        errors = self.form.errors
        out = []
        for name in self.filters:
            if name in errors:
                out.append(f"{name}={self.data.get(name, '')}")
        return out

    def error_detail(self) -> str:
        """The refused parameters with the reasons, for an API answer."""
        return "; ".join(
            f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in self.form.errors.items()
        )


def filter_or_422(filterset: FilterSet) -> models.QuerySet:
    """The filtered queryset, or an HTTP 422 naming every refused parameter."""
    if not filterset.is_valid():
        raise HttpError(422, filterset.error_detail())
    return filterset.qs


def _annotation(flt: django_filters.Filter) -> Any:
    if isinstance(flt, django_filters.BooleanFilter):
        return bool
    if isinstance(flt, django_filters.DateFilter):
        return date
    if isinstance(flt, django_filters.NumberFilter):
        return int
    if isinstance(flt, django_filters.ChoiceFilter):
        choices = flt.extra.get("choices")
        if isinstance(choices, list | tuple) and choices:
            return Literal[tuple(str(value) for value, _ in choices)]  # type: ignore[misc]
    return str


def query_schema(filterset: type[FilterSet], name: str, *, exclude: tuple[str, ...] = ()) -> type[Schema]:
    """A ninja query schema with one optional parameter per filter of ``filterset``.

    Types come from the filters (dates, numbers, booleans, static choices as enums);
    descriptions from their ``help_text`` (or label). The route validates the values
    again through the FilterSet (:func:`filter_or_422`), where the request-dependent
    choices are known.
    """
    fields: dict[str, Any] = {}
    for field_name, flt in filterset.base_filters.items():
        if field_name in exclude:
            continue
        description = str(flt.extra.get("help_text") or flt.label or "")
        default = filterset.defaults.get(field_name)
        fields[field_name] = (_annotation(flt) | None, Field(default, description=description))
    return create_model(name, __base__=Schema, **fields)


def rename_filters(filterset: type[FilterSet], names: dict[str, str]) -> None:
    """Give filters of ``filterset`` parameter names that cannot be attributes (``from``, ``to``).

    The filters keep their place in the form.
    """
    filterset.base_filters = {names.get(name, name): flt for name, flt in filterset.base_filters.items()}
