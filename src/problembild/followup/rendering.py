"""The quarterly report as a file, for the page's PDF and for scheduled runs of the CLI."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from problembild.core.models import OrgUnit

from .report import quarterly_report


def render_report(code: str, quarter: str, fmt: str, *, request=None) -> tuple[bytes, OrgUnit]:
    """``(content, unit)``: the unit's quarterly report as HTML or PDF bytes.

    Raises LookupError for an unknown unit and ValueError for a bad quarter or format.
    """
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise LookupError(f"no org unit with code {code!r}")
    if fmt not in ("html", "pdf"):
        raise ValueError(f"format must be html or pdf, not {fmt!r}")
    data = quarterly_report(unit, quarter)
    with translation.override(translation.get_language() or "sv"):
        html = render_to_string(
            "followup/report_pdf.html", {"unit": unit, "report": data, "pdf": fmt == "pdf"}, request=request
        )
    if fmt == "html":
        return html.encode("utf-8"), unit
    from problembild.core.pdf import html_to_pdf

    return html_to_pdf(html), unit
