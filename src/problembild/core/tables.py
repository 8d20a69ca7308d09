"""Declared tables: one column list per table, rendered as the page's HTML and written as its export.

Every list a user sees is a :class:`Table` (django-tables2) declared once in its app's
``tables.py``. The page renders it (``{% render_table table %}`` with the project's own
markup, ``core/table.html``), and :func:`problembild.core.exports.export_table` writes the
same columns, in the same order and with the same headers, to CSV or Excel. A column that
renders HTML on the page (a link, a mark, a sparkline) declares a ``value_<name>`` method
with the plain value the export writes; :func:`export_values` refuses a table where a
column would leak markup into a file.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django_tables2 as tables
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext_lazy

from .models import ImportRecord

__all__ = [
    "ImportErrorTable",
    "ImportRecordTable",
    "NumberColumn",
    "PercentColumn",
    "Table",
    "export_values",
    "muted",
    "num",
]


def num(**extra: Any) -> dict[str, dict[str, Any]]:
    """``attrs`` of a right-aligned numeric column; ``extra`` goes onto its cells (e.g. ``data-sort``)."""
    return {"th": {"class": "num"}, "td": {"class": "num", **extra}}


DASH = "–"


class NumberColumn(tables.Column):
    """A number, right-aligned: ``digits`` decimals (or whole, with ``grouped`` thousands) in the
    active language on the page, the number itself in exports.

    ``missing`` (with ``missing_title``) is shown, muted, where the value is missing: say why a
    figure is absent rather than leaving a bare dash.
    """

    def __init__(
        self,
        *args: Any,
        digits: int | None = None,
        grouped: bool = False,
        missing: str = "",
        missing_title: str = "",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("attrs", num())
        if missing:
            kwargs["empty_values"] = ()
        super().__init__(*args, **kwargs)
        self.digits, self.grouped, self.missing, self.missing_title = digits, grouped, missing, missing_title

    def render(self, value: Any) -> Any:
        if value is None:
            return muted(self.missing, self.missing_title)
        if self.digits is not None:
            return floatformat(value, self.digits)
        return intcomma(value) if self.grouped else value

    def value(self, value: Any) -> Any:
        return value


class PercentColumn(NumberColumn):
    """A share (0–1) as a whole percentage on the page, the share itself (3 decimals) in exports."""

    def render(self, value: Any) -> Any:
        if value is None:
            return muted(self.missing or "–", self.missing_title)
        return f"{value * 100:.0f} %"

    def value(self, value: Any) -> Any:
        return None if value is None else round(float(value), 3)


def muted(text: str, title: str = "") -> SafeString:
    """Text in the muted style, with an explanation on hover."""
    if title:
        return format_html('<span class="muted" title="{}">{}</span>', title, text)
    return format_html('<span class="muted">{}</span>', text)


class Table(tables.Table):
    """A table whose page and export share one declaration.

    A subclass's ``Meta`` (``class Meta(Table.Meta)``) may name ``row_header``, the column
    rendered as ``<th scope="row">`` (the row's name, for screen readers), and ``caption``,
    the hidden caption of the page table. Tables are not ordered or paginated on the
    server: ``table.js`` sorts sortable tables in the browser from the cells'
    ``data-sort`` values. Empty cells show an en dash on the page and nothing in exports.
    """

    class Meta:
        row_header: str | None = None
        caption: str = ""

    def __init__(self, *args: Any, caption: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("template_name", "core/table.html")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("default", "–")
        super().__init__(*args, **kwargs)
        meta = type(self).Meta
        self.caption = caption or getattr(meta, "caption", "")
        self.row_header = getattr(meta, "row_header", None)

    def headers(self) -> list[str]:
        """The page's column headers, in order."""
        return [str(column.header) for column in self.columns]

    def html(self) -> SafeString:
        """The table as HTML (what ``{% render_table %}`` shows).

        Built in Python rather than by looping in a template: a table of 60 rows and 20
        columns took 60 ms through django-tables2's template, 10 ms this way. Callables
        in a column's ``td`` attributes or in ``row_attrs`` receive the row's record.
        """
        columns = list(self.columns)
        plan = [
            (
                _CellRenderer(column, self),
                column.name == self.row_header,
                _Attrs(column.column.attrs.get("td", {})),
            )
            for column in columns
        ]
        head = "".join(
            f'<th scope="col"{_Attrs(column.column.attrs.get("th", {}))(None)}>{conditional_escape(column.header)}</th>'
            for column in columns
        )
        row_attrs = _Attrs(getattr(self, "row_attrs", None) or {})
        body = []
        for row in self.rows:
            record = row.record
            cells = []
            for render, is_header, td in plan:
                cell = _cell_html(render(row))
                if is_header:
                    cells.append(f'<th scope="row"{td(record)}>{cell}</th>')
                else:
                    cells.append(f"<td{td(record)}>{cell}</td>")
            body.append(f"<tr{row_attrs(record)}>{''.join(cells)}</tr>")
        if not body and self.empty_text:
            body.append(f'<tr><td colspan="{len(columns)}">{conditional_escape(self.empty_text)}</td></tr>')
        # A table wider than the screen scrolls: its frame is a named region that the
        # keyboard can reach (WCAG: scrollable regions must be focusable).
        table_id = self.attrs.get("id") if isinstance(self.attrs.get("id"), str) else ""
        caption_id = f"{table_id}-caption" if table_id and self.caption else ""
        caption = (
            f'<caption{f' id="{caption_id}"' if caption_id else ""} class="sr-only">'
            f"{conditional_escape(self.caption)}</caption>"
            if self.caption
            else ""
        )
        frame = f' tabindex="0" role="region" aria-labelledby="{caption_id}"' if caption_id else ""
        return mark_safe(
            f'<div class="table-wrap"{frame}>\n<table{_Attrs(dict(self.attrs))(None)}>{caption}'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n</div>"
        )


class _CellRenderer:
    """What ``BoundRow.get_cell`` does for one column, with everything per column found once.

    django-tables2 inspects the render method's signature and walks the accessor for every
    cell; a table of a few hundred cells spent most of its time there.
    """

    _OFFERED = ("value", "record", "table", "column", "bound_column", "bound_row")

    def __init__(self, column: tables.columns.BoundColumn, table: Table) -> None:
        self.bits = str(column.accessor).split("__")
        self.empty = column.column.empty_values
        self.default = column.default
        self.render = column.render
        # A column without a render method of its own shows its value as it is.
        self.plain = getattr(self.render, "__func__", None) is tables.Column.render
        parameters = inspect.signature(self.render).parameters
        accepts_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        self.names = [n for n in self._OFFERED if accepts_all or n in parameters]
        self.fixed = {"table": table, "column": column.column, "bound_column": column}

    def value(self, record: Any) -> Any:
        """The accessor's value: dict keys or attributes, ``__`` between steps, None on a missing step."""
        value = record
        for bit in self.bits:
            if value is None:
                return None
            value = value.get(bit) if isinstance(value, dict) else getattr(value, bit, None)
            if callable(value) and not isinstance(value, type):
                value = value()
        return value

    def __call__(self, row: Any) -> Any:
        record = row.record
        value = self.value(record)
        if value in self.empty:
            return self.default
        if self.plain:
            return value
        offered = {"value": value, "record": record, "bound_row": row, **self.fixed}
        return self.render(**{n: offered[n] for n in self.names})


class _Attrs:
    """A tag's attributes, in their declared order: callables are called with the row's record.

    Without callables the string is made once. Empty values are left out; django-tables2's
    own thead/tbody/tfoot entries are ignored.
    """

    def __init__(self, attrs: dict) -> None:
        self.items = [(name, value) for name, value in attrs.items() if not isinstance(value, dict)]
        self.fixed = None if any(callable(v) for _, v in self.items) else self._render(None)

    def _render(self, record: Any) -> str:
        out = []
        for name, value in self.items:
            if callable(value):
                value = value(record)
            if value not in (None, ""):
                out.append(f' {name}="{conditional_escape(value)}"')
        return "".join(out)

    def __call__(self, record: Any) -> str:
        return self.fixed if self.fixed is not None else self._render(record)


def _cell_html(value: Any) -> str:
    if isinstance(value, SafeData):
        return str(value)
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)  # what localize() gives without grouping, at a tenth of its cost
    if not isinstance(value, str):
        value = localize(value)
    return escape(value)


def export_values(table: tables.Table) -> tuple[list[str], Iterator[list[Any]]]:
    """The table's headers and an iterator over its rows of plain values (for CSV/Excel).

    Raises ``ValueError`` when a cell value is HTML: its column lacks a ``value_<name>``.
    """
    values = table.as_values()
    headers = [str(h) for h in next(values)]

    def rows() -> Iterator[list[Any]]:
        for row in values:
            for header, cell in zip(headers, row, strict=True):
                if isinstance(cell, SafeData):
                    raise ValueError(f"column {header!r} exports HTML: declare value_<name> on its table")
            yield row

    return headers, rows()


# --- the import page's tables ---------------------------------------------------------


class ImportRecordTable(Table):
    """The latest imports: who imported what, when, and how many rows."""

    started_at = tables.DateTimeColumn(verbose_name=gettext_lazy("Tid"), format="Y-m-d H:i:s")
    username = tables.Column(verbose_name=gettext_lazy("Användare"))
    kind = tables.Column(verbose_name=gettext_lazy("Typ"))
    file = tables.Column(accessor="file_name", verbose_name=gettext_lazy("Fil"))
    accepted = NumberColumn(verbose_name=gettext_lazy("Godkända"), grouped=True)
    rejected = NumberColumn(verbose_name=gettext_lazy("Avvisade"), grouped=True)
    added = NumberColumn(verbose_name=gettext_lazy("Nya"), grouped=True)
    status = tables.Column(verbose_name=gettext_lazy("Status"))

    class Meta(Table.Meta):
        caption = gettext_lazy("De 20 senaste importerna")
        attrs = {"class": "data", "id": "import-records"}
        row_attrs = {"class": lambda record: f"status-{record.status}"}
        empty_text = gettext_lazy("Inga importer än.")

    def value_started_at(self, value) -> str:
        return value.isoformat() if value else ""

    def render_file(self, value: str) -> str:
        return Path(value).name

    def value_file(self, value: str) -> str:
        return Path(value).name

    def render_status(self, record: ImportRecord) -> str:
        return record.get_status_display()

    def value_status(self, record: ImportRecord) -> str:
        return record.get_status_display()


class ImportErrorTable(Table):
    """The rejected rows of an import with file, line, field and reason."""

    file = tables.Column(verbose_name=gettext_lazy("Fil"))
    line = NumberColumn(verbose_name=gettext_lazy("Rad"))
    field = tables.Column(verbose_name=gettext_lazy("Fält"))
    message = tables.Column(verbose_name=gettext_lazy("Orsak"))

    class Meta(Table.Meta):
        caption = gettext_lazy("Avvisade rader med fil, rad, fält och orsak")
        attrs = {"class": "data", "id": "import-errors"}

    def render_field(self, value: str) -> SafeString:
        return format_html("<code>{}</code>", value)

    def value_field(self, value: str) -> str:
        return value
