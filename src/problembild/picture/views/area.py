"""An area's local problem picture (lokal problembild): the page, its print version and its exports."""

from __future__ import annotations

from django.conf import settings
from django.db import connections, router
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.cache import cached_fragment, data_stamp
from problembild.core.exports import export_reason, export_table
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.shell import render_page
from problembild.incidents.choices import indicator_choices
from problembild.incidents.models import AreaMatch, Incident

from ..document import AreaDocument
from ..methods import forecast_method_label
from ..models import AreaPicture
from ..reading import area_document
from ..tables import BacktestTable, KeyFiguresTable, MonthlyTable, MonthToDateTable, indicator_rows
from .unit import crumbs

#: The area's exports (``?table=``): the key figures (default), the monthly counts or the month so far.
EXPORT_TABLES = ("key", "monthly", "to_date")
#: Columns of the key figures on the print page (the page's others do not fit on paper).
PRINT_COLUMNS = ("indicator", "count_12m", "rate_12m", "previous_12m", "mark_12m", "p_12m", "q_12m", "trend")


def key_figures(doc: AreaDocument | None, **kwargs) -> KeyFiguresTable:
    """The key figures table of ``doc``: one row per indicator (``all`` first)."""
    figures = [(label, doc.indicator(code)) for code, label in indicator_choices()] if doc else []
    return KeyFiguresTable(indicator_rows(figures), **kwargs)


def _charts(doc: AreaDocument | None) -> dict:
    """The figures the page's scripts draw (embedded as JSON)."""
    if doc is None:
        return {
            "series": {},
            "trends": {},
            "hour_of_week": {},
            "labels": dict(indicator_choices()),
            "unusual_weeks": [],
        }
    stored = doc.model_dump(mode="json", include={"series", "hour_of_week", "unusual_weeks"})
    return {
        "series": stored["series"],
        "trends": {k: {"fitted": t.fitted, "seasonal": t.seasonal} for k, t in doc.trends.items()},
        "hour_of_week": stored["hour_of_week"],
        "labels": dict(indicator_choices()),
        "unusual_weeks": stored["unusual_weeks"],
    }


def hour_of_week_tables(doc: AreaDocument | None) -> list[dict]:
    """The hour-of-week heat map's figures as tables: per indicator, a row of 24 hourly counts per weekday."""
    if doc is None:
        return []
    tables = []
    for code, label in indicator_choices():
        grid = doc.hour_of_week.get(code)
        if not grid:
            continue
        tables.append(
            {
                "code": code,
                "label": label,
                "rows": [(WEEKDAYS[day], counts) for day, counts in enumerate(grid)],
            }
        )
    return tables


def _area_context(request, panel_id: int, *, area: Area | None = None) -> dict:
    area = area or Area.objects.get_for_user(request.user, panel_id=panel_id)
    lpo = area.org_unit
    picture = AreaPicture.objects.filter(area=area).first()
    doc = area_document(picture, cells=False)
    space = doc.space if doc else None
    forecast = space.forecast if space else None
    feed = (
        Incident.objects.filter(area=area, area_match=AreaMatch.APPROXIMATE)
        .order_by("-occurred_at")
        .only("occurred_at", "title", "raw_type", "url", "summary")[:25]
    )
    return {
        "area": area,
        "history": area.history(),
        "lpo": lpo,
        "police_area": lpo.parent,
        "region": lpo.parent.parent if lpo.parent else None,
        "population": list(area.population.order_by("-year")),
        "splits": list(area.splits.all()),
        "picture": picture,
        "doc": doc,
        "space": space,
        "forecast": forecast,
        "forecast_method": forecast_method_label(forecast.method if forecast else None),
        "charts": _charts(doc),
        "feed": list(feed),
        "need": doc.need if doc else None,
        "sources": doc.sources.by_source if doc and doc.sources else [],
        "synthetic_data": bool(doc and doc.synthetic_data),
    }


def named_events(area: Area) -> dict:
    """How many police events name ``area`` and the newest one's id: they change without a refresh.

    Read on every view of the area page (its cache key), so by one prepared statement (on the
    partial index of approximate matches) instead of an ORM aggregate compiled every time.
    """
    connection = connections[router.db_for_read(Incident)]
    q = connection.ops.quote_name
    meta = Incident._meta
    pk, match = q(meta.pk.column), q(meta.get_field("area_match").column)
    sql = (
        f"SELECT COUNT({pk}), MAX({pk}) FROM {q(meta.db_table)} "
        f"WHERE {q(meta.get_field('area').column)} = %s AND {match} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [area.pk, AreaMatch.APPROXIMATE.value])
        n, last = cursor.fetchone()
    return {"n": n, "last": last}


def area_detail(request, panel_id: int):
    """One area's local problem picture, read from the cache.

    The page below the menu is the same for everyone who may see the area, so it is
    rendered once per data stamp (and per change of the police events naming the area)
    and kept in the cache, like the overview; the scoping check and the access log entry
    happen on every request.
    """
    stamp = data_stamp()  # before any read of the data the fragment shows
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    named = named_events(area)

    def render_body():
        context = _area_context(request, panel_id, area=area)
        doc, forecast = context["doc"], context["forecast"]
        context.update(
            key_figures=key_figures(doc),
            monthly=MonthlyTable(doc.series if doc else {}),
            to_date=MonthToDateTable(doc.month_to_date if doc else None),
            backtest=BacktestTable(forecast.backtest if forecast else []),
            indicators=indicator_choices(),
            hour_tables=hour_of_week_tables(doc),
            hours=[f"{h:02d}" for h in range(24)],
            tile_url=settings.TILE_URL,
        )
        # The breadcrumbs' units change only with the register (in the stamp), so they are read
        # once with the body; which of them is a link depends on who asks (below, per request).
        units = [*area.org_unit.ancestors(), area.org_unit]
        crumb_units = [(u.code, u.name, u.path, u.kind) for u in units if u.kind != u.Kind.NATION]
        return render_to_string("picture/_area_body.html", context), {"units": crumb_units}

    parts = {"area": area.pk, "named": named, "tiles": settings.TILE_URL}
    body = cached_fragment("area", parts, render_body, stamp=stamp)
    log_request(request, AccessLogEntry.Action.VIEW, obj=area)
    units = [
        OrgUnit(code=code, name=name, path=path, kind=kind) for code, name, path, kind in body.meta["units"]
    ]
    links = crumbs(request.user, units)
    # What the page around the body shows of the view's: the area's name and id, the crumbs.
    key = ("area", area.pk, area.panel_id, area.name, tuple((u.code, u.name, linked) for u, linked in links))
    return render_page(
        request,
        "picture/area.html",
        {"area": area, "crumbs": links},
        body_name="area_body",
        body=body.html,
        key=key,
    )


def area_print(request, panel_id: int):
    """The area's problem picture as a print-ready page (print or save as PDF in the browser).

    Printing takes the figures out of the system: it is an export, asked for and logged like one.
    """
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    why = export_reason(
        request,
        title=_("%(area)s – lokal problembild") % {"area": area.name},
        action=_("Visa utskriftsvänlig sida"),
    )
    if isinstance(why, HttpResponse):
        return why
    context = _area_context(request, panel_id, area=area)
    forecast = context["forecast"]
    context.update(
        key_figures=key_figures(context["doc"], sequence=PRINT_COLUMNS, exclude=_others(PRINT_COLUMNS)),
        backtest=BacktestTable(
            [b for b in (forecast.backtest if forecast else []) if b.coverage == 0.05],
            exclude=("hit_rate", "pei", "n_origins"),
        ),
    )
    log_request(
        request,
        AccessLogEntry.Action.EXPORT,
        obj=context["area"],
        object_repr=f"{context['area']} (print)",
        reason=why.reason,
        recipient=why.recipient,
    )
    return render(request, "picture/area_print.html", context)


def _others(columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in KeyFiguresTable.base_columns if name not in columns)


def area_export(request, panel_id: int, fmt: str):
    """The area's key figures (every indicator); ``table=monthly`` its monthly counts,
    ``table=to_date`` the month the data end in so far."""
    what = request.GET.get("table", "key")
    if what not in EXPORT_TABLES:
        raise Http404(_("Okänd tabell: %(table)s") % {"table": what})
    context = _area_context(request, panel_id)
    area, doc = context["area"], context["doc"]
    table = {
        "monthly": lambda: MonthlyTable(doc.series if doc else {}),
        "to_date": lambda: MonthToDateTable(doc.month_to_date if doc else None),
        "key": lambda: key_figures(doc),
    }[what]()
    note = _("Problembild %(area)s, data till %(as_of)s.") % {
        "area": area.name,
        "as_of": doc.as_of.isoformat() if doc and doc.as_of else "–",
    }
    if context["synthetic_data"]:
        note += " " + _("Innehåller syntetiska data (synthetic).")
    return export_table(
        request, table, name=f"problembild-{area.name}-{what}", fmt=fmt, title=area.name, note=note, obj=area
    )
