"""Exports of tables as CSV or Excel, every one written to the access log.

The Criminal Data Act (brottsdatalagen) expects a record of who took data out of the
system, why and for whom. :func:`export_table` therefore asks for a reason (or case
reference) and a recipient before it hands over the file; the answer goes into the
access log with the exported object. What is exported is always a declared table
(:mod:`problembild.core.tables`): the file has the page table's columns.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .access import log_request
from .models import AccessLogEntry
from .roles import EXPORT_ROLES, has_role
from .tables import export_values

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

#: Characters Excel does not allow in a sheet's name.
_SHEET_NAME_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")


#: A text cell starting with one of these is read as a formula by spreadsheet programs
#: (OWASP's CSV injection rule); such cells are written with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # text from imported data must never run as a formula
    return value


def table_bytes(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, *, title: str = "", note: str = ""
) -> bytes:
    """The table as CSV (UTF-8 with BOM, so Excel reads å/ä/ö) or as an .xlsx workbook."""
    if fmt == "csv":
        buf = io.StringIO()
        # RFC 4180 line ends: a field holding a carriage return or line feed is then quoted.
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        ws = wb.active
        ws.title = _SHEET_NAME_FORBIDDEN.sub("-", title or "Problembild")[:31] or "Problembild"
        start = 1
        if note:
            ws.cell(row=1, column=1, value=note).font = Font(italic=True)
            start = 3
        for j, label in enumerate(headers, 1):
            ws.cell(row=start, column=j, value=label).font = Font(bold=True)
        for i, row in enumerate(rows, start + 1):
            for j, value in enumerate(row, 1):
                ws.cell(row=i, column=j, value=_cell(value))
        ws.freeze_panes = ws.cell(row=start + 1, column=1)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise ValueError(f"unknown export format {fmt!r}; use csv or xlsx")


@dataclass(frozen=True)
class ExportReason:
    """Why and for whom data leave the system (both required, as the Criminal Data Act expects)."""

    reason: str
    recipient: str


def export_reason(request, *, title: str, action: str) -> ExportReason | HttpResponse:
    """The reason and recipient of an export, or the page that asks for them.

    The one gate of every export (tables, the print page): users whose role may not export
    are refused (403, logged as denied); without a reason and a recipient (whitespace is not
    one) the reason form is returned (GET, so a filled-in link can be bookmarked).
    ``action`` is the form's button text.
    """
    if not has_role(request.user, EXPORT_ROLES):
        raise PermissionDenied(_("Din roll får inte exportera uppgifter."))
    reason = request.GET.get("reason", "").strip()
    recipient = request.GET.get("recipient", "").strip()
    if reason and recipient:
        return ExportReason(reason=reason[:500], recipient=recipient[:300])
    return render(
        request,
        "core/export_reason.html",
        {
            "title": title,
            "action": action,
            "params": [
                (k, v) for k, v in request.GET.items() if k not in ("reason", "recipient", "submitted")
            ],
            "reason": reason,
            "recipient": recipient,
            "missing": bool(request.GET.get("submitted")),
        },
    )


def export_table(
    request,
    table,
    *,
    name: str,
    fmt: str,
    title: str = "",
    note: str = "",
    obj=None,
    object_type: str = "",
) -> HttpResponse:
    """Ask for reason and recipient, then log the export and return ``table`` as a file.

    ``table`` is the page's declared table (:class:`problembild.core.tables.Table`), so
    the file has the page's columns. See :func:`export_reason` for who may export.
    """
    if fmt not in FORMATS:
        raise Http404(_("Okänt exportformat: %(fmt)s") % {"fmt": fmt})
    why = export_reason(request, title=title or name, action=_("Ladda ned %(fmt)s") % {"fmt": fmt.upper()})
    if isinstance(why, HttpResponse):
        return why
    log_request(
        request,
        AccessLogEntry.Action.EXPORT,
        obj=obj,
        object_type=object_type,
        object_repr=f"{title or name} ({fmt})",
        reason=why.reason,
        recipient=why.recipient,
    )
    headers, rows = export_values(table)
    content = table_bytes(headers, rows, fmt, title=title, note=note)
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{slugify(name) or "export"}.{fmt}"'
    return response
