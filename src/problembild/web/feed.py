"""The police's public events feed (polisen.se "händelser") per municipality and type.

The page shows, for the chosen period, type and county: a municipality choropleth of
events per 10,000 residents, a sortable table, a monthly chart by type, and, apart, the
events the feed places only at county level. Everything is aggregated in the database
(``values``/``annotate``); the page never loops over the individual events.

The feed's positions are municipality or county centroids, never incident addresses, so
nothing here is drawn as a point. The events are public information; the page is not
limited to the user's unit (an approximate area match is linked only when the user may
see the area), but every view is written to the access log.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncMonth
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from problembild.analysis.vocabulary import INDICATOR_CODES
from problembild.areas.counties import COUNTIES
from problembild.areas.models import Area, Municipality
from problembild.core.access import log_request
from problembild.core.exports import export_table
from problembild.core.models import AccessLogEntry
from problembild.incidents.models import POLISEN_SOURCE, Incident

from .picture import indicator_label

#: Fill colours of the map: no events, then five classes of events per 10,000 residents
#: (quantiles of the municipalities with events). Sequential, readable for colour-blind users.
ZERO_COLOUR = "#f2f2f2"
CLASS_COLOURS = ("#fee391", "#fec44f", "#fe9929", "#d95f0e", "#993404")
MISSING_COLOUR = "#bdbdbd"
#: Types drawn as their own series in the monthly chart; the rest are summed.
CHART_TYPES = 8
PER = 10_000


@dataclass
class FeedFilters:
    """The valid filters of a request and the values that were ignored."""

    year: int | None = None
    start: date | None = None
    end: date | None = None
    raw_type: str = ""
    indicator: str = ""
    county: str = ""
    municipality: str = ""
    ignored: list[str] = field(default_factory=list)


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filters(request, types: set[str], municipalities: dict[str, dict]) -> FeedFilters:
    """Read the filters; a malformed or unknown value is ignored and named in ``ignored``."""
    f = FeedFilters()

    def get(key: str) -> str:
        return request.GET.get(key, "").strip()

    year = get("year")
    if year:
        if year.isdigit() and 1990 <= int(year) <= 2100:
            f.year = int(year)
        else:
            f.ignored.append(f"year={year}")
    for key in ("from", "to"):
        value = get(key)
        if not value:
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            f.ignored.append(f"{key}={value}")
            continue
        if key == "from":
            f.start = day
        else:
            f.end = day
    if f.start and f.end and f.start > f.end:
        f.ignored += [f"from={f.start.isoformat()}", f"to={f.end.isoformat()}"]
        f.start = f.end = None
    raw_type = get("type")
    if raw_type:
        if raw_type in types:
            f.raw_type = raw_type
        else:
            f.ignored.append(f"type={raw_type}")
    indicator = get("indicator")
    if indicator:
        if indicator in INDICATOR_CODES:
            f.indicator = indicator
        else:
            f.ignored.append(f"indicator={indicator}")
    county = get("county")
    if county:
        if county in COUNTIES:
            f.county = county
        else:
            f.ignored.append(f"county={county}")
    municipality = get("municipality")
    if municipality:
        known = municipalities.get(municipality)
        if known is None or (f.county and known["county_code"] != f.county):
            f.ignored.append(f"municipality={municipality}")
        else:
            f.municipality = municipality
    return f


def _events(f: FeedFilters, county_codes: list[str]):
    """The feed's events after the period, type and county filters (not the municipality)."""
    qs = Incident.objects.filter(source=POLISEN_SOURCE)
    if f.year:
        qs = qs.filter(
            occurred_at__gte=_aware(date(f.year, 1, 1)), occurred_at__lt=_aware(date(f.year + 1, 1, 1))
        )
    if f.start:
        qs = qs.filter(occurred_at__gte=_aware(f.start))
    if f.end:
        qs = qs.filter(occurred_at__lt=_aware(f.end + timedelta(days=1)))
    if f.raw_type:
        qs = qs.filter(raw_type=f.raw_type)
    if f.indicator:
        qs = qs.filter(indicator=f.indicator)
    if f.county:
        qs = qs.filter(Q(county_code=f.county) | Q(municipality_code__in=county_codes))
    # Clear the model's default ordering so that it never enters a GROUP BY.
    return qs.order_by()


def _rate(count: int, population: int | None) -> float | None:
    return round(count * PER / population, 2) if population else None


def _breaks(rates: list[float]) -> list[float]:
    """Upper bounds of five classes: quantiles of the positive rates, rounded and distinct."""
    values = sorted(r for r in rates if r and r > 0)
    if not values:
        return []
    out: list[float] = []
    for q in (0.2, 0.4, 0.6, 0.8):
        v = round(values[min(len(values) - 1, int(q * len(values)))], 2)
        if not out or v > out[-1]:
            out.append(v)
    top = round(values[-1], 2)
    if not out or top > out[-1]:
        out.append(top)
    else:
        out[-1] = top
    return out


def _class(rate: float | None, count: int, breaks: list[float]) -> int:
    """0 for no events, 1–5 for the classes, -1 when the population is missing."""
    if count == 0:
        return 0
    if rate is None:
        return -1
    for i, upper in enumerate(breaks, start=1):
        if rate <= upper:
            return i
    return len(breaks)


def _top(types: dict[str, int], n: int = 3) -> list[tuple[str, int]]:
    return sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _months(first: date, last: date) -> list[str]:
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _chart(qs) -> dict:
    """Monthly counts by type (the largest types apart, the rest summed), from the database."""
    rows = qs.annotate(month=TruncMonth("occurred_at")).values("month", "raw_type").annotate(n=Count("id"))
    by_type: dict[str, dict[str, int]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    months: set[str] = set()
    for r in rows:
        month = timezone.localtime(r["month"]) if timezone.is_aware(r["month"]) else r["month"]
        key = month.strftime("%Y-%m")
        by_type[r["raw_type"]][key] = by_type[r["raw_type"]].get(key, 0) + r["n"]
        totals[r["raw_type"]] += r["n"]
        months.add(key)
    if not months:
        return {"months": [], "series": []}
    span = _months(date.fromisoformat(min(months) + "-01"), date.fromisoformat(max(months) + "-01"))
    ranked = [t for t, _n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    series = [{"name": t, "counts": [by_type[t].get(m, 0) for m in span]} for t in ranked[:CHART_TYPES]]
    rest = ranked[CHART_TYPES:]
    if rest:
        series.append(
            {
                "name": _("Övriga typer (%(n)s)") % {"n": len(rest)},
                "counts": [sum(by_type[t].get(m, 0) for t in rest) for m in span],
            }
        )
    return {"months": span, "series": series}


def feed_context(request, *, with_chart: bool = True) -> dict:
    """Filters, municipality and county tables, map classes and the chart of the feed page."""
    municipalities = {
        m["code"]: m
        for m in Municipality.objects.order_by("name").values(
            "code", "name", "county_code", "population", "population_year"
        )
    }
    everything = Incident.objects.filter(source=POLISEN_SOURCE).order_by()
    span = everything.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    types = sorted(everything.values_list("raw_type", flat=True).distinct())
    f = _filters(request, set(types), municipalities)
    county_codes = [c for c, m in municipalities.items() if m["county_code"] == f.county] if f.county else []
    events = _events(f, county_codes)

    # One grouped query gives municipality totals and types, county-only and unplaced events.
    per_muni: dict[str, dict[str, int]] = defaultdict(dict)
    per_county: dict[str, dict[str, int]] = defaultdict(dict)
    unplaced = 0
    for r in events.values("municipality_code", "county_code", "raw_type").annotate(n=Count("id")):
        if r["municipality_code"]:
            d = per_muni[r["municipality_code"]]
            d[r["raw_type"]] = d.get(r["raw_type"], 0) + r["n"]
        elif r["county_code"]:
            per_county[r["county_code"]][r["raw_type"]] = r["n"]
        else:
            unplaced += r["n"]

    in_scope = [m for m in municipalities.values() if not f.county or m["county_code"] == f.county]
    rows: list[dict[str, Any]] = []
    for m in in_scope:
        kinds = per_muni.get(m["code"], {})
        n = sum(kinds.values())
        rows.append(
            {
                "code": m["code"],
                "name": m["name"],
                "county_code": m["county_code"],
                "county": COUNTIES.get(m["county_code"], m["county_code"]),
                "count": n,
                "population": m["population"],
                "population_year": m["population_year"],
                "rate": _rate(n, m["population"]),
                "top": _top(kinds),
            }
        )
    rows.sort(key=lambda r: (r["rate"] is None, -(r["rate"] or 0), -r["count"], r["name"]))
    breaks = _breaks([r["rate"] for r in rows])
    for r in rows:
        r["cls"] = _class(r["rate"], r["count"], breaks)

    county_rows: list[dict[str, Any]] = []
    for code, kinds in sorted(per_county.items(), key=lambda kv: -sum(kv[1].values())):
        county_rows.append(
            {
                "code": code,
                "county": COUNTIES.get(code, code),
                "count": sum(kinds.values()),
                "types": _top(kinds, n=len(kinds)),
            }
        )

    municipal_total = sum(r["count"] for r in rows)
    county_total = sum(r["count"] for r in county_rows)
    chosen_muni = municipalities.get(f.municipality) if f.municipality else None
    scope_qs = events.filter(municipality_code=f.municipality) if chosen_muni else events
    if chosen_muni:
        scope_name = chosen_muni["name"]
    elif f.county:
        scope_name = COUNTIES[f.county]
    else:
        scope_name = _("Hela landet")
    years = (
        list(range(timezone.localtime(span["first"]).year, timezone.localtime(span["last"]).year + 1))
        if span["first"]
        else []
    )
    pop_years = sorted({m["population_year"] for m in in_scope if m["population_year"]})
    return {
        "filters": f,
        "ignored": f.ignored,
        "empty": span["first"] is None,
        "span": span,
        "years": years,
        "types": types,
        "indicators": [(c, indicator_label(c)) for c in INDICATOR_CODES],
        "counties": sorted(COUNTIES.items(), key=lambda kv: kv[1]),
        "municipalities": sorted(
            (m for m in municipalities.values() if not f.county or m["county_code"] == f.county),
            key=lambda m: m["name"],
        ),
        "rows": rows,
        "county_rows": county_rows,
        "municipal_total": municipal_total,
        "county_total": county_total,
        "unplaced": unplaced,
        "breaks": breaks,
        "chosen_muni": chosen_muni,
        "scope_name": scope_name,
        "scope_qs": scope_qs,
        "pop_years": pop_years,
        "chart": _chart(scope_qs) if with_chart else None,
    }


def _period_label(f: FeedFilters, span: dict) -> str:
    parts = []
    if f.year:
        parts.append(str(f.year))
    if f.start or f.end:
        parts.append(f"{f.start.isoformat() if f.start else '…'} – {f.end.isoformat() if f.end else '…'}")
    if parts:
        return ", ".join(parts)
    if span["first"]:
        first = timezone.localtime(span["first"]).date().isoformat()
        last = timezone.localtime(span["last"]).date().isoformat()
        return _("hela perioden (%(first)s – %(last)s)") % {"first": first, "last": last}
    return _("hela perioden")


def _legend(breaks: list[float]) -> list[dict]:
    items = [{"colour": ZERO_COLOUR, "label": _("Inga händelser")}]
    lower = 0.0
    for colour, upper in zip(CLASS_COLOURS, breaks, strict=False):
        items.append({"colour": colour, "lower": lower, "upper": upper})
        lower = upper
    items.append({"colour": MISSING_COLOUR, "label": _("Folkmängd saknas")})
    return items


def _query_without(request, *keys: str) -> str:
    query = request.GET.copy()
    for key in keys:
        query.pop(key, None)
    return query.urlencode()


def feed(request):
    """The events feed per municipality and type: map, table, monthly chart, county-only events."""
    ctx = feed_context(request)
    f = ctx["filters"]
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="incidents.incident",
        object_repr=f"polisen feed ({ctx['municipal_total'] + ctx['county_total'] + ctx['unplaced']} events)",
    )
    latest = list(
        ctx.pop("scope_qs")
        .order_by("-occurred_at")
        .only("occurred_at", "raw_type", "title", "url", "area_id", "area_match", "municipality_code")[:20]
    )
    area_ids = {e.area_id for e in latest if e.area_id}
    visible = (
        dict(Area.objects.for_user(request.user).filter(pk__in=area_ids).values_list("pk", "panel_id"))
        if area_ids
        else {}
    )
    names = dict(Area.objects.filter(pk__in=visible).values_list("pk", "name")) if visible else {}
    for e in latest:
        e.visible_panel_id = visible.get(e.area_id)
        e.visible_area_name = names.get(e.area_id, "")
    base = _query_without(request, "municipality")
    map_data = {
        "munis": {r["code"]: {"n": r["count"], "rate": r["rate"], "c": r["cls"]} for r in ctx["rows"]},
        "colours": [ZERO_COLOUR, *CLASS_COLOURS],
        "missing": MISSING_COLOUR,
        "selected": f.municipality,
        "link": "?" + (base + "&" if base else "") + "municipality=",
        "chart": ctx["chart"],
        "scope": ctx["scope_name"],
        "labels": {
            "events": _("händelser"),
            "per": _("per 10 000 invånare"),
            "nopop": _("folkmängd saknas"),
            "month": _("Månad"),
            "count": _("Antal händelser"),
        },
    }
    ctx.update(
        latest=latest,
        map_data=map_data,
        legend=_legend(ctx["breaks"]),
        period_label=_period_label(f, ctx["span"]),
        query=request.GET.urlencode(),
        muni_link=map_data["link"],
        base_query=base,
        type_label=f.raw_type or (indicator_label(f.indicator) if f.indicator else _("Alla typer")),
    )
    return render(request, "web/feed.html", ctx)


def feed_export(request, fmt: str):
    """The feed page's municipality table (or, with ``table=county``, the county-only table)."""
    ctx = feed_context(request, with_chart=False)
    f = ctx["filters"]
    period = _period_label(f, ctx["span"])
    kind = f.raw_type or (indicator_label(f.indicator) if f.indicator else _("Alla typer"))
    if request.GET.get("table") == "county":
        columns = [
            ("county_code", _("Länskod")),
            ("county", _("Län")),
            ("count", _("Händelser utan kommun")),
            ("types", _("Typer")),
        ]
        rows = [
            {
                "county_code": r["code"],
                "county": r["county"],
                "count": r["count"],
                "types": "; ".join(f"{t} {n}" for t, n in r["types"]),
            }
            for r in ctx["county_rows"]
        ]
        name, title = "problembild-handelser-lan", _("Händelser bara på länsnivå")
    else:
        columns = [
            ("code", _("Kommunkod")),
            ("name", _("Kommun")),
            ("county", _("Län")),
            ("count", _("Händelser")),
            ("population", _("Folkmängd")),
            ("population_year", _("Folkmängd år")),
            ("rate", _("Per 10 000 invånare")),
            ("top", _("Vanligaste typer")),
        ]
        rows = [{**r, "top": "; ".join(f"{t} {n}" for t, n in r["top"])} for r in ctx["rows"]]
        name, title = "problembild-handelser-kommuner", _("Händelser per kommun")
    note = _(
        "Polisens händelser (polisen.se), %(period)s, %(kind)s. Positionerna är kommunens eller länets "
        "mittpunkt, aldrig brottsplatsens adress."
    ) % {"period": period, "kind": kind}
    return export_table(
        request,
        rows=rows,
        columns=columns,
        name=name,
        fmt=fmt,
        title=title,
        note=note,
        object_type="incidents.incident",
    )
