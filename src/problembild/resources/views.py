"""The resources pages: a unit's rule table, protected time, presence vs demand, the optimiser
and its scenarios, and the staffing and capacity edits."""

from __future__ import annotations

from datetime import date

import numpy as np
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.exports import export_table
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.roles import MANAGER_ROLES, PLANNING_ROLES
from problembild.core.scoping import in_scope, require_unit_visible, unit_for

from . import follow
from .filtersets import ExportFilterSet, ResourcesFilterSet
from .forms import CapacityForm, ScenarioForm, StaffingForm
from .importers import FieldError, parse_month
from .models import Capacity, Scenario, Staffing
from .scenarios import Parameters, area_plan, default_available, planning_capacity, run_scenario
from .tables import AllocationTable, PresenceTable, RollupTable, RuleTable, ShiftTable, VisitTable


def get_unit(request, code: str) -> OrgUnit:
    """The org unit ``code`` if the user may see it (404 unknown, 403 outside the scope)."""
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise Http404(_("Ingen sådan enhet."))
    require_unit_visible(request.user, unit)
    return unit


#: ``may(user, roles, unit)``: the role and the scope (the one rule, in core).
may = in_scope


def _month(text: str) -> date:
    try:
        return parse_month(text)
    except FieldError:
        raise Http404(_("Ingen sådan månad.")) from None


def _chain(unit: OrgUnit) -> list[OrgUnit]:
    chain, node = [], unit.parent
    while node is not None:
        chain.insert(0, node)
        node = node.parent
    return chain


def index(request):
    """The user's own unit's resources (a user without a unit sees the nation if allowed)."""
    unit = unit_for(request.user) or OrgUnit.objects.filter(kind=OrgUnit.Kind.NATION).first()
    if unit is None:
        raise Http404(_("Ingen organisation registrerad."))
    return redirect("resources:unit", code=unit.code)


def _filters(request, unit: OrgUnit, filterset=ResourcesFilterSet):
    """The page's filters over the unit's areas and months (both read once, and kept on the FilterSet)."""
    areas = list(follow.area_queryset(unit))
    return filterset(
        request.GET, Area.objects.none(), request=request, periods=follow.periods_for(areas), areas=areas
    )


def _resources(unit: OrgUnit, filters) -> follow.UnitResources:
    """The unit's figures for the filters' month and scope, from the areas the filters read."""
    return follow.unit_resources(
        unit,
        period=filters.month(),
        scope=filters.value("scope"),
        areas=filters.areas,
        periods=filters.periods,
    )


def _grid(values) -> list[list[float | None]]:
    """168 values as 7 rows of 24 (Monday first) for the heat maps; NaN as None."""
    arr = np.asarray(values, dtype=float).reshape(7, 24)
    return [[None if np.isnan(v) else round(float(v), 4) for v in row] for row in arr]


def week_heatmaps(res: follow.UnitResources, panel_id: str | None) -> dict | None:
    """Presence and demand shares by hour of week for one area or the unit, and their ratio."""
    if panel_id:
        row = next((r for r in res.rows if str(r.area.panel_id) == panel_id), None)
        if row is None or row.staffing is None or not row.staffing.actual:
            return None
        presence_hours = np.asarray(row.staffing.actual, float)
        demand = row.demand
        label = row.area.name
    else:
        presence_hours, demand, label = res.presence_total(), res.demand_total(), res.unit.name
    if presence_hours is None or presence_hours.sum() <= 0:
        return None
    presence_share = presence_hours / presence_hours.sum()
    out = {"label": label, "presence": _grid(presence_share * 100), "demand": None, "ratio": None}
    if demand is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(demand > 0, presence_share / demand, np.nan)
        out.update(demand=_grid(demand * 100), ratio=_grid(ratio))
    return out


def protected_heatmap(res: follow.UnitResources) -> dict | None:
    """Share of hours in the area, per area (rows) and month (columns), the last twelve months."""
    months = sorted(res.periods[:12])
    if not months:
        return None
    areas = [r.area for r in res.rows]
    found = {
        (s.area_id, s.period): s
        for s in Staffing.objects.filter(area__in=areas, period__in=months).only(
            "area_id", "period", "actual", "hours_outside"
        )
    }
    z, names = [], []
    for area in areas:
        line = []
        for month in months:
            s = found.get((area.pk, month))
            inside = s.hours_in_area if s else None
            if s is None or inside is None or s.hours_outside is None or inside + s.hours_outside <= 0:
                line.append(None)
            else:
                line.append(round(inside / (inside + s.hours_outside) * 100, 1))
        if any(v is not None for v in line):
            z.append(line)
            names.append(area.name)
    if not z:
        return None
    return {
        "months": [f"{m:%Y-%m}" for m in months],
        "areas": names,
        "z": z,
        "threshold": res.threshold * 100,
    }


def unit_page(request, code: str):
    """A unit's resources for one month: the rule, protected time, presence vs demand, the optimiser."""
    unit = get_unit(request, code)
    filters = _filters(request, unit)
    res = _resources(unit, filters)
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"resources {unit.name}")
    current_total = sum(r.officers or 0 for r in res.rows)
    form = ScenarioForm(initial={"available": default_available(res, current_total)})
    met, judged = res.lpo_share_met
    return render(
        request,
        "resources/unit.html",
        {
            "unit": unit,
            "chain": _chain(unit),
            "children": list(unit.children.filter(pk__in=[r.unit.pk for r in res.rollups]).order_by("name")),
            "res": res,
            "filter": filters,
            "rule_table": RuleTable(res.rows),
            "units_table": RollupTable(res.rollups),
            "presence_table": PresenceTable(res.rows, threshold=res.threshold),
            "lpo_met": met,
            "lpo_judged": judged,
            "lpo_share": met / judged if judged else None,
            "riksrevisionen": follow.RIKSREVISIONEN_SHARE_MET,
            "totals": res.totals,
            "current_total": current_total,
            "example": any(r.staffing and r.staffing.example for r in res.rows),
            "charts": {
                "week": week_heatmaps(res, filters.value("area")),
                "protected": protected_heatmap(res),
                "labels": {
                    "presence": _("Närvaro, % av veckans timmar"),
                    "demand": _("Behov, % av veckans"),
                    "ratio": _("Närvaro / behov"),
                },
            },
            "form": form,
            "can_plan": may(request.user, PLANNING_ROLES, unit),
            "can_manage": may(request.user, MANAGER_ROLES, unit),
            "scenarios": list(Scenario.objects.for_user(request.user).filter(org_unit=unit)[:10]),
            "query": request.GET.urlencode(),
            "edit_month": f"{res.period or date.today():%Y-%m}",
            "plan_capacity": planning_capacity(res),
        },
    )


def unit_export(request, code: str, fmt: str):
    """One of the unit page's tables (``table=rule|units|presence``) as CSV or Excel."""
    unit = get_unit(request, code)
    filters = _filters(request, unit, ExportFilterSet)
    res = _resources(unit, filters)
    which = filters.value("table")
    table = {
        "rule": lambda: RuleTable(res.rows),
        "units": lambda: RollupTable(res.rollups),
        "presence": lambda: PresenceTable(res.rows, threshold=res.threshold),
    }[which]()
    month = f"{res.period:%Y-%m}" if res.period else ""
    example = any(r.staffing and r.staffing.example for r in res.rows)
    return export_table(
        request,
        table,
        name=f"problembild-resurser-{unit.code}-{which}-{month}",
        fmt=fmt,
        title=_("Resurser, %(unit)s, %(month)s") % {"unit": unit.name, "month": month},
        obj=unit,
        note=_("Bemanningen är exempeldata (example).") if example else "",
    )


@require_POST
def scenario_create(request, code: str):
    """Run the optimiser with the form's parameters and save the scenario."""
    unit = get_unit(request, code)
    if not may(request.user, PLANNING_ROLES, unit):
        raise PermissionDenied(_("Din roll får inte köra resursscenarier."))
    filters = _filters(request, unit)
    form = ScenarioForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Scenariot kördes inte: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect(f"{reverse('resources:unit', args=[unit.code])}?{request.GET.urlencode()}")
    data = form.cleaned_data
    params = Parameters(
        available=data["available"],
        extra=data["extra"] or 0,
        cap=data["cap"],
        max_change=data["max_change"],
        robust=data["robust"],
        hours_per_officer=data["hours_per_officer"],
        scope=filters.value("scope"),
    )
    try:
        scenario = run_scenario(unit, params, period=filters.month(), name=data["name"], user=request.user)
    except ValueError as exc:
        messages.error(request, _("Scenariot kördes inte: %(error)s") % {"error": exc})
        return redirect("resources:unit", code=unit.code)
    log_request(request, AccessLogEntry.Action.CHANGE, obj=scenario)
    return redirect("resources:scenario", pk=scenario.pk)


def get_scenario(request, pk: int) -> Scenario:
    scenario = Scenario.objects.select_related("org_unit").filter(pk=pk).first()
    if scenario is None:
        raise Http404(_("Inget sådant scenario."))
    require_unit_visible(request.user, scenario.org_unit)
    return scenario


def allocation_rows(scenario: Scenario) -> list[dict]:
    """The scenario's areas with the explanation in the active language."""
    key = "text_en" if (get_language() or "sv").startswith("en") else "text_sv"
    return [{**a, "explanation": a.get(key, "")} for a in scenario.result.get("areas", [])]


def _plan(scenario: Scenario, area: str | None):
    if not area:
        return None
    try:
        return area_plan(scenario, int(area))
    except (KeyError, ValueError):
        raise Http404(_("Området ingår inte i scenariot.")) from None


def scenario_page(request, pk: int):
    """A scenario beside the current allocation and proportional rounding, with the reasons."""
    scenario = get_scenario(request, pk)
    area = request.GET.get("area") or None
    plan = _plan(scenario, area)
    log_request(request, AccessLogEntry.Action.VIEW, obj=scenario)
    result = scenario.result
    base = result.get("baselines", {})
    objective = result.get("objective") or 0.0
    labels = {"proportional": _("proportionell avrundning"), "current": _("nuvarande fördelning")}
    # Each baseline with its own floor shortfall: a higher coverage bought by leaving
    # floors unmet is not a better allocation, and the page must not read as if it were.
    gains = [
        (
            labels.get(name, name),
            b["coverage"],
            f"{(objective / b['coverage'] - 1) * 100:+.1f}",
            b.get("shortfall_total") or 0,
        )
        for name, b in base.items()
        if isinstance(b, dict) and b.get("coverage")
    ]
    return render(
        request,
        "resources/scenario.html",
        {
            "scenario": scenario,
            "result": result,
            "gains": gains,
            "table": AllocationTable(allocation_rows(scenario)),
            "areas": result.get("areas", []),
            "area": area,
            "plan": plan,
            "visit_share": f"{plan.visits.share_of_presence * 100:.0f}" if plan and plan.visits else "",
            "visit_score": f"{plan.visits.score_covered * 100:.0f}" if plan and plan.visits else "",
            "shift_table": ShiftTable(plan.hours.shifts.to_dict("records")) if plan and plan.hours else None,
            "visit_table": VisitTable(plan.visits.visits.to_dict("records"))
            if plan and plan.visits
            else None,
            "charts": {
                "hours": [round(float(v), 2) for v in plan.hours.hours] if plan and plan.hours else None,
                "demand": [round(float(v), 5) for v in plan.demand]
                if plan and plan.demand is not None
                else None,
            },
        },
    )


def scenario_export(request, pk: int, fmt: str):
    """The allocation (``table=allocation``), or one area's shifts or visits (``table=shifts|visits&area=``)."""
    scenario = get_scenario(request, pk)
    which = request.GET.get("table", "allocation")
    if which == "allocation":
        table = AllocationTable(allocation_rows(scenario))
    elif which in ("shifts", "visits"):
        plan = _plan(scenario, request.GET.get("area"))
        if plan is None:
            raise Http404(_("Ange området (area=områdes-id)."))
        if which == "shifts":
            table = ShiftTable(plan.hours.shifts.to_dict("records") if plan.hours else [])
        else:
            table = VisitTable(plan.visits.visits.to_dict("records") if plan.visits else [])
    else:
        raise Http404(_("Okänd tabell: %(table)s") % {"table": which})
    return export_table(
        request,
        table,
        name=f"problembild-scenario-{scenario.pk}-{which}",
        fmt=fmt,
        title=_("Scenario: %(name)s") % {"name": scenario.name},
        obj=scenario,
        note=_("Folkmängden är delvis syntetisk (synthetic).") if scenario.result.get("synthetic") else "",
    )


FIELDS_STAFFING = ("officers", "fte", "hours_outside")
FIELDS_CAPACITY = ("officers", "hours", "increase")


def edit_history(obj, fields: tuple[str, ...]) -> list[tuple]:
    """The last 20 versions of ``obj``: when, who, what kind of change and the fields' values."""
    if not obj.pk:
        return []
    return [
        (
            h.history_date,
            h.history_user.get_username() if h.history_user else "",
            h.get_history_type_display(),
            [getattr(h, f) for f in fields],
        )
        for h in obj.history.select_related("history_user")[:20]
    ]


def _edit(
    request, obj, form_class, fields: tuple[str, ...], *, title: str, back: str, saved: str, again: str
):
    """The form of one staffing or capacity row: save (logged as a change) or show it with its history."""
    form = form_class(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        row = form.save(commit=False)
        row.example = False
        row.source = _("Inmatad av %(user)s") % {"user": request.user.get_username()}
        row.save()
        log_request(request, AccessLogEntry.Action.CHANGE, obj=row)
        messages.success(request, saved)
        return redirect(again)
    log_request(request, AccessLogEntry.Action.VIEW, object_type=obj._meta.label_lower, object_repr=title)
    return render(
        request,
        "resources/edit.html",
        {
            "form": form,
            "title": title,
            "back": back,
            "history": edit_history(obj, fields),
            "field_labels": [type(obj)._meta.get_field(f).verbose_name for f in fields],
        },
    )


def staffing_edit(request, panel_id: int, month: str):
    """Edit one area's officers and hours outside the area for one month (managers of its unit)."""
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    period = _month(month)
    if not may(request.user, MANAGER_ROLES, area.org_unit):
        raise PermissionDenied(_("Bemanningen ändras av enhetens ledning."))
    staffing = Staffing.objects.filter(area=area, period=period).first() or Staffing(area=area, period=period)
    label = f"{period:%Y-%m}"
    return _edit(
        request,
        staffing,
        StaffingForm,
        FIELDS_STAFFING,
        title=_("Bemanning: %(area)s, %(month)s") % {"area": area.name, "month": label},
        back=reverse("resources:unit", args=[area.org_unit.code]) + f"?period={label}",
        saved=_("Bemanningen för %(area)s %(month)s sparades.") % {"area": area.name, "month": label},
        again=reverse("resources:staffing", args=[panel_id, label]),
    )


def capacity_edit(request, code: str, month: str):
    """Edit a unit's capacity and expected increase for one month (managers of the unit)."""
    unit = get_unit(request, code)
    period = _month(month)
    if not may(request.user, MANAGER_ROLES, unit):
        raise PermissionDenied(_("Kapaciteten ändras av enhetens ledning."))
    capacity = Capacity.objects.filter(org_unit=unit, period=period).first() or Capacity(
        org_unit=unit, period=period
    )
    label = f"{period:%Y-%m}"
    return _edit(
        request,
        capacity,
        CapacityForm,
        FIELDS_CAPACITY,
        title=_("Kapacitet: %(unit)s, %(month)s") % {"unit": unit.name, "month": label},
        back=reverse("resources:unit", args=[unit.code]) + f"?period={label}",
        saved=_("Kapaciteten för %(unit)s %(month)s sparades.") % {"unit": unit.name, "month": label},
        again=reverse("resources:capacity", args=[code, label]),
    )
