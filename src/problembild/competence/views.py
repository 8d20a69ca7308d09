"""The competence pages: a unit's gaps and coverage, a person's gap list, the national
training needs, the profiles, the courses and the training plans."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.exports import export_table
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.roles import has_role
from problembild.core.scoping import require_unit_visible, unit_for

from . import access
from .filtersets import (
    CompetenceFilterSet,
    DateFilterSet,
    NeedsFilterSet,
    PlanExportFilterSet,
    UnitExportFilterSet,
)
from .forms import AssessmentForm, PlanForm, ProfileForm, next_version
from .models import (
    EXPIRY_WARNING_DAYS,
    MAX_LEVEL,
    Competence,
    Completion,
    Course,
    Requirement,
    RoleProfile,
    Staff,
    StaffRole,
    TrainingPlan,
)
from .planning import PlanParameters, run_plan
from .standing import by_competence, by_person, by_unit, coverage, person_gaps, staff_in, standing
from .tables import (
    AssessmentTable,
    AssignmentTable,
    CompetenceTable,
    CompletionTable,
    CourseTable,
    CoverageTable,
    GapTable,
    PeopleTable,
    PlanCourseTable,
    PlanGroupTable,
    UnitGapTable,
)


def get_unit(request, code: str) -> OrgUnit:
    """The org unit ``code`` if the user may read its competence reports (404 unknown, 403 otherwise)."""
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise Http404(_("Ingen sådan enhet."))
    access.require_reports(request.user, unit)
    return unit


def get_person(request, pseudonym: str) -> Staff:
    """The staff record ``pseudonym`` if the user may read it (their own, or in scope for HR and managers)."""
    person = Staff.objects.select_related("org_unit", "area").filter(pseudonym=pseudonym).first()
    if person is None:
        raise Http404(_("Ingen sådan person."))
    if not access.may_read_person(request.user, person):
        require_unit_visible(request.user, person.org_unit)
        raise PermissionDenied(_("Din roll får inte läsa personalens kompetens."))
    return person


def index(request):
    """The user's unit's report, or their own record when that is all they may read."""
    user = request.user
    unit = unit_for(user) or OrgUnit.objects.filter(kind=OrgUnit.Kind.NATION).first()
    if unit is not None and has_role(user, access.REPORT_ROLES):
        return redirect("competence:unit", code=unit.code)
    own = access.own_record(user)
    if own is not None:
        return redirect("competence:person", pseudonym=own.pseudonym)
    raise PermissionDenied(
        _("Din roll läser inte kompetensrapporter och inget personalkort är kopplat till dig.")
    )


def _chain(unit: OrgUnit) -> list[OrgUnit]:
    return [u for u in OrgUnit.objects.filter(code__in=unit.path.split("/")[:-1]).order_by("path")]


def _unit_view(request, unit: OrgUnit, filters):
    """The figures of a unit's page and exports for the filters' role and date."""
    on = filters.date()
    st = standing(staff_in(unit, role=filters.value("role")), on)
    areas = list(
        Area.objects.filter(org_unit__in=unit.descendants())
        .current()
        .with_current_category()
        .order_by("name")
    )
    people_allowed = access.in_scope(request.user, access.PEOPLE_ROLES, unit)
    cov_st = st if not filters.value("role") else standing(staff_in(unit), on)
    return {
        "standing": st,
        "competences": by_competence(st),
        "units": by_unit(unit, st),
        "coverage": coverage(areas, cov_st) if areas else [],
        "people": by_person(st) if people_allowed else None,
        "people_allowed": people_allowed,
        "on": on,
    }


def _unit_tables(data: dict, query: str) -> dict:
    st = data["standing"]
    return {
        "competences": CompetenceTable(data["competences"]),
        "units": UnitGapTable(data["units"], competences=st.competences, query=query),
        "coverage": CoverageTable(data["coverage"]),
        "people": PeopleTable(data["people"] or []),
    }


def unit_page(request, code: str):
    """A unit's competence: gaps per competence, per unit below, coverage per area, and people."""
    unit = get_unit(request, code)
    filters = CompetenceFilterSet(request.GET, Staff.objects.none(), request=request)
    data = _unit_view(request, unit, filters)
    query = request.GET.urlencode()
    tables = _unit_tables(data, query)
    st = data["standing"]
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"competence {unit.name}")
    covered = sum(1 for c in data["coverage"] if c.covered)
    return render(
        request,
        "competence/unit.html",
        {
            "unit": unit,
            "chain": _chain(unit),
            "filter": filters,
            "query": query,
            "tables": tables,
            "staff": len(st.staff),
            "meets": int(st.meets.sum()),
            "no_profile": int((~st.has_profile).sum()) if st.staff else 0,
            "expiring": Completion.objects.filter(
                staff__in=st.staff,
                expires__gt=data["on"],
                expires__lte=_plus_days(data["on"], EXPIRY_WARNING_DAYS),
            ).count(),
            "coverage_count": covered,
            "areas": len(data["coverage"]),
            "people_allowed": data["people_allowed"],
            "on": data["on"],
            "example": any(s.example for s in st.staff),
            "can_plan": access.in_scope(request.user, access.PLAN_ROLES, unit),
            "plans": list(TrainingPlan.objects.for_user(request.user).filter(org_unit=unit)[:10]),
            "plan_form": PlanForm(),
            "own": access.own_record(request.user),
        },
    )


def _plus_days(day: date, days: int) -> date:
    return date.fromordinal(day.toordinal() + days)


def unit_export(request, code: str, fmt: str):
    """One of the unit page's tables (``table=competences|units|coverage|people``) as CSV or Excel."""
    unit = get_unit(request, code)
    filters = UnitExportFilterSet(request.GET, Staff.objects.none(), request=request)
    which = filters.value("table")
    data = _unit_view(request, unit, filters)
    if which == "people" and not data["people_allowed"]:
        raise PermissionDenied(_("Din roll får inte exportera personalens kompetens."))
    table = _unit_tables(data, "")[which]
    role = filters.value("role") or "all"
    return export_table(
        request,
        table,
        name=f"problembild-kompetens-{unit.code}-{which}-{role}-{data['on']:%Y-%m-%d}",
        fmt=fmt,
        title=_("Kompetens, %(unit)s, %(on)s") % {"unit": unit.name, "on": f"{data['on']:%Y-%m-%d}"},
        obj=unit,
        note=_("Personalen är exempeldata (example).")
        if any(s.example for s in data["standing"].staff)
        else "",
    )


def needs(request):
    """The national training-needs report: per region (or unit below the user's), how many of a role
    (area officers by default) lack each required competence."""
    if not has_role(request.user, access.REPORT_ROLES):
        raise PermissionDenied(_("Din roll läser inte kompetensrapporter."))
    unit = unit_for(request.user) or OrgUnit.objects.filter(kind=OrgUnit.Kind.NATION).first()
    if unit is None:
        raise Http404(_("Ingen organisation registrerad."))
    filters = NeedsFilterSet(request.GET, Staff.objects.none(), request=request)
    on = filters.date()
    st = standing(staff_in(unit, role=filters.chosen_role()), on)
    rows = by_unit(unit, st)
    comp_rows = by_competence(st)
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"training needs {unit.name}")
    fmt = request.GET.get("format")
    table = UnitGapTable(rows, competences=st.competences, query=request.GET.urlencode())
    if fmt:
        return export_table(
            request,
            table,
            name=f"problembild-utbildningsbehov-{filters.value('role')}-{on:%Y-%m-%d}",
            fmt=fmt,
            title=_("Utbildningsbehov per enhet, %(on)s") % {"on": f"{on:%Y-%m-%d}"},
            obj=unit,
            note=_("Personalen är exempeldata (example).") if any(s.example for s in st.staff) else "",
        )
    chart = {
        "units": [r.unit.name for r in rows],
        "competences": [c.name for c in st.competences],
        "z": [r.lacking for r in rows],
        "label": _("Antal som saknar nivån"),
    }
    return render(
        request,
        "competence/needs.html",
        {
            "unit": unit,
            "filter": filters,
            "query": request.GET.urlencode(),
            "table": table,
            "competence_table": CompetenceTable(comp_rows),
            "staff": len(st.staff),
            "meets": int(st.meets.sum()),
            "lacking_any": int((st.gaps.sum(axis=1) > 0).sum()),
            "role_label": dict(StaffRole.choices).get(filters.chosen_role() or "", _("alla roller")),
            "on": on,
            "chart": chart,
            "example": any(s.example for s in st.staff),
        },
    )


def person_page(request, pseudonym: str):
    """A person's gap list against the profile in force, their certificates and assessments."""
    person = get_person(request, pseudonym)
    filters = DateFilterSet(request.GET, Staff.objects.none(), request=request)
    on = filters.date()
    st, rows = person_gaps(person, on)
    profile = st.profiles.get(person.role)
    completions = [
        {"course": c.course, "completed": c.completed, "expires": c.expires, "state": c.expiry_state(on)}
        for c in person.completions.select_related("course")
    ]
    log_request(request, AccessLogEntry.Action.VIEW, obj=person, object_repr=f"competence {person.pseudonym}")
    can_assess = access.in_scope(request.user, access.PEOPLE_ROLES, person.org_unit)
    return render(
        request,
        "competence/person.html",
        {
            "person": person,
            "profile": profile,
            "gap_table": GapTable(rows),
            "gaps": [r for r in rows if r["gap"]],
            "total_gap": sum(r["gap"] for r in rows),
            "completion_table": CompletionTable(completions),
            "assessment_table": AssessmentTable(person.assessments.select_related("competence")[:50]),
            "filter": filters,
            "query": request.GET.urlencode(),
            "on": on,
            "form": AssessmentForm() if can_assess else None,
            "can_report": access.in_scope(request.user, access.REPORT_ROLES, person.org_unit),
            "history": person.history.select_related("history_user")[:10] if can_assess else [],
        },
    )


def person_export(request, pseudonym: str, fmt: str):
    """A person's gap list as CSV or Excel."""
    person = get_person(request, pseudonym)
    filters = DateFilterSet(request.GET, Staff.objects.none(), request=request)
    on = filters.date()
    _st, rows = person_gaps(person, on)
    return export_table(
        request,
        GapTable(rows),
        name=f"problembild-kompetens-{person.pseudonym}-{on:%Y-%m-%d}",
        fmt=fmt,
        title=_("Brister för %(id)s, %(on)s") % {"id": person.pseudonym, "on": f"{on:%Y-%m-%d}"},
        obj=person,
        note=_("Exempeldata (example).") if person.example else "",
    )


@require_POST
def assess(request, pseudonym: str):
    """Record an assessed level for the person (HR and the managers of the person's unit)."""
    person = get_person(request, pseudonym)
    if not access.in_scope(request.user, access.PEOPLE_ROLES, person.org_unit):
        raise PermissionDenied(_("Din roll får inte bedöma personalens kompetens."))
    form = AssessmentForm(request.POST)
    if form.is_valid():
        existing = person.assessments.filter(
            competence=form.cleaned_data["competence"], assessed=form.cleaned_data["assessed"]
        ).first()
        row = form.save(commit=False) if existing is None else existing
        row.staff = person
        row.level, row.note = form.cleaned_data["level"], form.cleaned_data["note"]
        row.assessor = request.user.get_username()
        row.example = False
        row.save()
        log_request(request, AccessLogEntry.Action.CHANGE, obj=row, object_repr=str(row))
        messages.success(
            request,
            _("Bedömningen sparades: %(comp)s nivå %(level)s.")
            % {"comp": row.competence.name, "level": row.level},
        )
    else:
        messages.error(
            request, _("Bedömningen sparades inte: %(errors)s") % {"errors": form.errors.as_text()}
        )
    return redirect("competence:person", pseudonym=person.pseudonym)


def profiles(request):
    """The catalogue with each level in words, and each role's profile in force with its versions."""
    on = date.today()
    in_force = RoleProfile.objects.prefetch_related("requirements__competence").in_force(on)
    versions = RoleProfile.objects.prefetch_related("requirements__competence").order_by("role", "-version")
    competences = list(Competence.objects.all())
    matrix = []
    for comp in competences:
        matrix.append(
            {
                "competence": comp,
                "levels": [
                    in_force[r].levels().get(comp.pk, 0) if r in in_force else None
                    for r, _l in StaffRole.choices
                ],
            }
        )
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="competence.roleprofile", object_repr="profiles"
    )
    return render(
        request,
        "competence/profiles.html",
        {
            "catalogue": [(c, [c.level_text(i) for i in range(MAX_LEVEL + 1)]) for c in competences],
            "roles": StaffRole.choices,
            "in_force": in_force,
            "matrix": matrix,
            "versions": versions,
            "can_decide": has_role(request.user, access.PROFILE_ROLES),
            "on": on,
        },
    )


def profile_new(request, role: str):
    """Decide a new version of a role's profile (Noa); earlier versions are kept unchanged."""
    if role not in StaffRole.values:
        raise Http404(_("Ingen sådan roll."))
    if not has_role(request.user, access.PROFILE_ROLES):
        raise PermissionDenied(_("Rollprofiler beslutas av Noa."))
    competences = list(Competence.objects.all())
    latest = RoleProfile.objects.filter(role=role).order_by("-version").first()
    form = ProfileForm(
        request.POST or None,
        competences=competences,
        current=latest.levels() if latest else None,
        initial={"decided": date.today(), "criticality": latest.criticality if latest else 1.0},
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            profile = RoleProfile.objects.create(
                role=role,
                version=next_version(role),
                decided=form.cleaned_data["decided"],
                decided_by=form.cleaned_data["decided_by"],
                criticality=form.cleaned_data["criticality"],
                note=form.cleaned_data["note"],
            )
            Requirement.objects.bulk_create(
                Requirement(profile=profile, competence_id=c, level=lvl) for c, lvl in form.levels().items()
            )
        log_request(request, AccessLogEntry.Action.CHANGE, obj=profile, object_repr=str(profile))
        messages.success(request, _("Profilen %(profile)s sparades.") % {"profile": profile})
        return redirect("competence:profiles")
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="competence.roleprofile", object_repr=f"new {role}"
    )
    return render(
        request,
        "competence/profile_form.html",
        {"form": form, "role": dict(StaffRole.choices)[role], "latest": latest},
    )


def _course_rows() -> list[dict]:
    return [
        {
            "code": c.code,
            "name": c.name,
            "gives": [(o.competence.name, o.level) for o in c.outcomes.all()],
            "days": c.days,
            "seats": c.seats,
            "cost": c.cost,
            "valid_months": c.valid_months,
            "rounds": [r.starts for r in c.rounds.all()],
            "example": c.example,
        }
        for c in Course.objects.prefetch_related("outcomes__competence", "rounds")
    ]


def courses(request):
    """The courses: what each teaches, its length, seats, cost and rounds."""
    log_request(request, AccessLogEntry.Action.VIEW, object_type="competence.course", object_repr="courses")
    return render(request, "competence/courses.html", {"table": CourseTable(_course_rows())})


def courses_export(request, fmt: str):
    return export_table(
        request, CourseTable(_course_rows()), name="problembild-kurser", fmt=fmt, title=_("Kurser"),
        object_type="competence.course",
    )  # fmt: skip


@require_POST
def plan_create(request, code: str):
    """Compute a training plan for the unit with the form's limits, save it and show it."""
    unit = get_unit(request, code)
    if not access.in_scope(request.user, access.PLAN_ROLES, unit):
        raise PermissionDenied(_("Din roll får inte beräkna utbildningsplaner."))
    form = PlanForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Planen beräknades inte: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("competence:unit", code=unit.code)
    data = form.cleaned_data
    try:
        params = PlanParameters(
            budget=data["budget"],
            max_days_per_person=data["max_days_per_person"],
            away_share=data["away_share"],
            expiry_weight=data["expiry_weight"],
            role=data["role"] or None,
        )
        plan = run_plan(unit, data["period"], params, name=data["name"], user=request.user)
    except ValueError as exc:
        messages.error(request, _("Planen beräknades inte: %(error)s") % {"error": exc})
        return redirect("competence:unit", code=unit.code)
    log_request(request, AccessLogEntry.Action.CHANGE, obj=plan, object_repr=str(plan))
    return redirect("competence:plan", plan_id=plan.pk)


def get_plan(request, plan_id: int) -> TrainingPlan:
    plan = TrainingPlan.objects.select_related("org_unit").filter(pk=plan_id).first()
    if plan is None:
        raise Http404(_("Ingen sådan utbildningsplan."))
    access.require_reports(request.user, plan.org_unit)
    return plan


def _plan_tables(plan: TrainingPlan) -> dict:
    r = plan.result
    return {
        "assignments": AssignmentTable(r.get("assignments", [])),
        "courses": PlanCourseTable(r.get("courses", [])),
        "groups": PlanGroupTable(r.get("groups", [])),
    }


def plan_page(request, plan_id: int):
    """A plan beside the two baselines: the weighted gap each closes, places, cost, and who takes what."""
    plan = get_plan(request, plan_id)
    people_allowed = access.in_scope(request.user, access.PEOPLE_ROLES, plan.org_unit)
    r = plan.result
    total = r.get("gap_total") or 0
    comparison = [
        (_("Optimerad plan (HiGHS)"), r["gap_closed"], r["levels_closed"], r["places"], r["cost"]),
        *[
            (label, b["gap_closed"], b["levels_closed"], b["places"], b["cost"])
            for label, b in (
                (_("Största brist först"), r["baseline_plans"]["largest_gap_first"]),
                (_("Först till kvarn"), r["baseline_plans"]["first_come_first_served"]),
            )
        ],
    ]
    log_request(request, AccessLogEntry.Action.VIEW, obj=plan, object_repr=str(plan))
    return render(
        request,
        "competence/plan.html",
        {
            "plan": plan,
            "r": r,
            "comparison": [
                (label, closed, levels, places, cost, closed / total * 100 if total else None)
                for label, closed, levels, places, cost in comparison
            ],
            "gain": {
                name: (r["gap_closed"] / value - 1) * 100 if value else None
                for name, value in r["baselines"].items()
            },
            "tables": _plan_tables(plan),
            "people_allowed": people_allowed,
            "budget": _("ingen gräns")
            if plan.parameters.get("budget") is None
            else f"{intcomma(round(plan.parameters['budget']))} kr",
        },
    )


def plan_export(request, plan_id: int, fmt: str):
    """A plan's places (``table=assignments``), per course or per area, as CSV or Excel."""
    plan = get_plan(request, plan_id)
    which = PlanExportFilterSet(request.GET, Staff.objects.none(), request=request).value("table")
    if which == "assignments" and not access.in_scope(request.user, access.PEOPLE_ROLES, plan.org_unit):
        raise PermissionDenied(_("Din roll får inte exportera vem som går vilken kurs."))
    return export_table(
        request,
        _plan_tables(plan)[which],
        name=f"problembild-utbildningsplan-{plan.pk}-{which}",
        fmt=fmt,
        title=_("Utbildningsplan: %(name)s") % {"name": plan.name},
        obj=plan,
        note=_("Exempeldata (example).") if plan.example else "",
    )
