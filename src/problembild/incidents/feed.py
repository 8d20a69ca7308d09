"""The police's public events feed (polisen.se "händelser") summed per municipality and type.

What the feed page (:mod:`.views`) shows for the chosen period, type and county: events
per 10,000 residents per municipality with map classes, the events the feed places only
at county level, and a monthly chart by type. Everything is aggregated in the database
(``values``/``annotate``); nothing loops over the individual events.

The feed's positions are municipality or county centroids, never incident addresses, so
nothing here is drawn as a point. The events are public information; the page is not
limited to the user's unit (an approximate area match is linked only when the user may
see the area), but every view is written to the access log.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.db.models import Count, Max, Min
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from problembild.areas.counties import COUNTIES

from .choices import indicator_label
from .filtersets import FeedFilterSet
from .models import POLISEN_SOURCE, Incident

#: Fill colours of the map: no events, then five classes of events per 10,000 residents
#: (quantiles of the municipalities with events). Sequential, readable for colour-blind users.
ZERO_COLOUR = "#f2f2f2"
CLASS_COLOURS = ("#fee391", "#fec44f", "#fe9929", "#d95f0e", "#993404")
MISSING_COLOUR = "#bdbdbd"
#: Types drawn as their own series in the monthly chart; the rest are summed.
CHART_TYPES = 8
PER = 10_000


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


def _grouped(events) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]], int]:
    """Events per municipality and type, per county and type (county-only events), and unplaced ones.

    One grouped query.
    """
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
    return per_muni, per_county, unplaced


def _municipality_rows(
    municipalities: list[dict], per_muni: dict[str, dict[str, int]]
) -> list[dict[str, Any]]:
    """One row per municipality (events, population, rate, most common types), highest rate first."""
    rows = []
    for m in municipalities:
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
    return rows


def feed_context(request, *, with_chart: bool = True) -> dict:
    """Filters, municipality and county tables, map classes and the chart of the feed page."""
    everything = Incident.objects.filter(source=POLISEN_SOURCE).order_by()
    span = everything.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    years = (
        list(range(timezone.localtime(span["first"]).year, timezone.localtime(span["last"]).year + 1))
        if span["first"]
        else []
    )
    types = sorted(everything.values_list("raw_type", flat=True).distinct())
    f = FeedFilterSet(request.GET, everything, request=request, years=years, types=types)
    # Clear the model's default ordering so that it never enters a GROUP BY.
    events = f.qs.order_by()
    municipalities = f.municipalities
    county = f.value("county")

    per_muni, per_county, unplaced = _grouped(events)
    in_scope = [m for m in municipalities.values() if not county or m["county_code"] == county]
    rows = _municipality_rows(in_scope, per_muni)
    breaks = _breaks([r["rate"] for r in rows])
    for r in rows:
        r["cls"] = _class(r["rate"], r["count"], breaks)
    county_rows = [
        {
            "code": code,
            "county": COUNTIES.get(code, code),
            "count": sum(kinds.values()),
            "types": _top(kinds, n=len(kinds)),
        }
        for code, kinds in sorted(per_county.items(), key=lambda kv: -sum(kv[1].values()))
    ]

    chosen = f.value("municipality")
    chosen_muni = municipalities.get(chosen) if chosen else None
    scope_qs = events.filter(municipality_code=chosen) if chosen_muni else events
    if chosen_muni:
        scope_name = chosen_muni["name"]
    elif county:
        scope_name = COUNTIES[county]
    else:
        scope_name = _("Hela landet")
    return {
        "filter": f,
        "ignored": f.ignored,
        "empty": span["first"] is None,
        "span": span,
        "rows": rows,
        "county_rows": county_rows,
        "municipal_total": sum(r["count"] for r in rows),
        "county_total": sum(r["count"] for r in county_rows),
        "unplaced": unplaced,
        "breaks": breaks,
        "chosen_muni": chosen_muni,
        "scope_name": scope_name,
        "scope_qs": scope_qs,
        "pop_years": sorted({m["population_year"] for m in in_scope if m["population_year"]}),
        "chart": _chart(scope_qs) if with_chart else None,
    }


def period_label(f: FeedFilterSet, span: dict) -> str:
    """The chosen period in words (the whole span of the feed when none is chosen)."""
    parts = []
    year, start, end = f.value("year"), f.value("from"), f.value("to")
    if year:
        parts.append(str(year))
    if start or end:
        parts.append(f"{start.isoformat() if start else '…'} – {end.isoformat() if end else '…'}")
    if parts:
        return ", ".join(parts)
    if span["first"]:
        first = timezone.localtime(span["first"]).date().isoformat()
        last = timezone.localtime(span["last"]).date().isoformat()
        return _("hela perioden (%(first)s – %(last)s)") % {"first": first, "last": last}
    return _("hela perioden")


def type_label(f: FeedFilterSet) -> str:
    """The chosen type or indicator in words."""
    indicator = f.value("indicator")
    return f.value("type") or (indicator_label(indicator) if indicator else _("Alla typer"))


def legend(breaks: list[float]) -> list[dict]:
    """The map's classes: no events, the rate classes, missing population."""
    items = [{"colour": ZERO_COLOUR, "label": _("Inga händelser")}]
    lower = 0.0
    for colour, upper in zip(CLASS_COLOURS, breaks, strict=False):
        items.append({"colour": colour, "lower": lower, "upper": upper})
        lower = upper
    items.append({"colour": MISSING_COLOUR, "label": _("Folkmängd saknas")})
    return items
