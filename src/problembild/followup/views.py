"""The follow-up pages: the strategy's status, a unit's follow-up, the area's yearly problem
picture document (with its intelligence assessment), activities, the method catalogue and the
quarterly report (HTML and PDF)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from problembild.analysis.targets import parse_quarter, quarter_of
from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.exports import export_reason, export_table
from problembild.core.locking import EditConflict, save_if_current
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.roles import LOCAL_CHIEF, MANAGER_ROLES, has_role
from problembild.core.scoping import require_unit_visible, unit_for
from problembild.incidents.choices import indicator_label

from . import documents as docs
from .evaluate import evaluate as evaluate_measure
from .filtersets import ActivityFilterSet
from .forms import ActivityForm, AssessmentForm, DelegateForm, DocumentForm, EvaluationForm, formsets
from .measures import strategy_status
from .models import Activity, Delegate, Evaluation, Method, PictureDocument, Priority
from .report import hours_against_need, method_use, quarterly_report, quiet
from .tables import ActivityTable, EvaluationTable, MethodTable


def get_unit(request, code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise Http404(_("Ingen sådan enhet."))
    require_unit_visible(request.user, unit)
    return unit


def _home_unit(request) -> OrgUnit:
    unit = unit_for(request.user) or OrgUnit.objects.filter(kind=OrgUnit.Kind.NATION).first()
    if unit is None:
        raise Http404(_("Ingen organisation registrerad."))
    return unit


def index(request):
    """The user's own unit's follow-up."""
    return redirect("followup:unit", code=_home_unit(request).code)


def _quarter(text: str | None) -> str:
    if not text:
        return quarter_of(timezone.localdate())
    try:
        year, q = parse_quarter(text)
    except ValueError:
        raise Http404(_("Okänt kvartal: %(q)s") % {"q": text}) from None
    return f"{year}Q{q}"


def _recent_quarters(today: date, n: int = 4) -> list[str]:
    out, year, q = [], today.year, (today.month - 1) // 3 + 1
    for _i in range(n):
        q -= 1
        if q == 0:
            year, q = year - 1, 4
        out.append(f"{year}Q{q}")
    return out


# --- strategy --------------------------------------------------------------------------


def strategy(request):
    """The strategy's goals with each measure's status for a unit (default the user's own)."""
    code = request.GET.get("unit")
    unit = get_unit(request, code) if code else _home_unit(request)
    # The fallback to the nation (a user without a unit) must still be in scope.
    require_unit_visible(request.user, unit)
    today = timezone.localdate()
    goals = strategy_status(unit, date(today.year, today.month, 1))
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"strategy status {unit.name}")
    return render(
        request,
        "followup/strategy.html",
        {
            "unit": unit,
            "goals": goals,
            "units": _unit_choices(request.user),
            "as_of": date(today.year, today.month, 1),
        },
    )


def _unit_choices(user):
    from problembild.core.scoping import visible_units

    return list(visible_units(user).exclude(kind=OrgUnit.Kind.LOCAL_POLICE_AREA).order_by("path")) + list(
        visible_units(user).filter(kind=OrgUnit.Kind.LOCAL_POLICE_AREA).order_by("name")
    )


# --- a unit's follow-up ----------------------------------------------------------------


def unit_page(request, code: str):
    """A unit's documents, what has gone quiet, methods used and hours against need."""
    unit = get_unit(request, code)
    today = timezone.localdate()
    year = (
        int(request.GET.get("year") or today.year)
        if str(request.GET.get("year", "")).isdigit()
        else today.year
    )
    areas = list(
        Area.objects.for_user(request.user).filter(org_unit__in=unit.descendants()).current().order_by("name")
    )
    documents = {
        d.area_id: d
        for d in PictureDocument.objects.filter(area__in=areas, year=year).prefetch_related(
            "priorities", "promises"
        )
    }
    start = date(year, 1, 1)
    end = min(date(year + 1, 1, 1), today)
    activities = Activity.objects.filter(area__in=areas, date__gte=start, date__lt=date(year + 1, 1, 1))
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"follow-up {unit.name} {year}")
    return render(
        request,
        "followup/unit.html",
        {
            "unit": unit,
            "chain": unit.ancestors(),
            "year": year,
            "rows": [(a, documents.get(a.pk)) for a in areas],
            "flags": quiet(unit, today),
            "methods": method_use(activities),
            "hours": hours_against_need(unit, start, end),
            "quarters": _recent_quarters(today),
            "current_quarter": quarter_of(today),
            "may_delegate": has_role(request.user, {LOCAL_CHIEF}) and unit_for(request.user) == unit,
            "delegates": list(Delegate.objects.filter(org_unit=unit).select_related("user")),
            "delegate_form": DelegateForm(),
        },
    )


@require_POST
def delegate_add(request, code: str):
    """The unit's chief lets a user of the unit edit its documents (or takes it back)."""
    unit = get_unit(request, code)
    if not (has_role(request.user, {LOCAL_CHIEF}) and unit_for(request.user) == unit):
        raise PermissionDenied(_("Bara enhetens chef utser ombud."))
    form = DelegateForm(request.POST)
    if form.is_valid():
        user = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
        own = unit_for(user) if user else None
        if user is None or own is None or not unit.contains(own):
            messages.error(request, _("Ingen användare med det namnet i enheten."))
        elif request.POST.get("remove"):
            Delegate.objects.filter(org_unit=unit, user=user).delete()
            log_request(
                request, AccessLogEntry.Action.CHANGE, obj=unit, object_repr=f"delegate removed: {user}"
            )
        else:
            Delegate.objects.get_or_create(org_unit=unit, user=user, defaults={"granted_by": request.user})
            log_request(
                request, AccessLogEntry.Action.CHANGE, obj=unit, object_repr=f"delegate added: {user}"
            )
    return redirect("followup:unit", code=unit.code)


# --- the yearly document ----------------------------------------------------------------


def _document(request, panel_id: int, year: int) -> tuple[Area, PictureDocument | None]:
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    if not 1900 <= year <= 2100:
        raise Http404(_("Inget sådant år."))
    return area, PictureDocument.objects.filter(area=area, year=year).select_related("previous").first()


def _document_context(request, area: Area, doc: PictureDocument) -> dict:
    figures = doc.figures or docs.picture_figures(area)
    counts = {
        p.pk: (p.n, p.hours)
        for p in doc.priorities.all().annotate(
            n=Count("activities"),
            hours=Sum("activities__hours"),
        )
    }
    priorities = list(doc.priorities.all())
    for p in priorities:
        p.evidence = [str(indicator_label(c)) for c in p.indicators]
    return {
        "area": area,
        "doc": doc,
        "figures": figures,
        "figure_rows": [
            (str(indicator_label(code)), y, (figures.get("trends") or {}).get(code) or {})
            for code, y in (figures.get("year_figures") or {}).items()
        ],
        "figures_live": not doc.figures,
        "priorities": [(p, *counts.get(p.pk, (0, None))) for p in priorities],
        "promises": list(doc.promises.all().annotate(n=Count("activities"))),
        "partners": list(doc.partners.all()),
        "meetings": list(doc.meetings.all()),
        "may_edit": docs.may_edit(request.user, area),
        "may_read_assessment": docs.may_read_assessment(request.user),
        "history": list(doc.history.select_related("history_user")[:10]),
    }


def document_page(request, panel_id: int, year: int):
    """The area's problem picture document for ``year`` (or the button that starts it)."""
    area, doc = _document(request, panel_id, year)
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        obj=area,
        object_repr=f"problem picture document {area.name} {year}",
    )
    if doc is None:
        return render(
            request,
            "followup/document_missing.html",
            {"area": area, "year": year, "may_edit": docs.may_edit(request.user, area)},
            status=404,
        )
    return render(request, "followup/document.html", _document_context(request, area, doc))


@require_POST
def document_start(request, panel_id: int, year: int):
    """Start the year's document from the computed picture and last year's document."""
    area, doc = _document(request, panel_id, year)
    if not docs.may_edit(request.user, area):
        raise PermissionDenied(_("Områdets problembild skrivs av lokalpolisområdets chef eller ombud."))
    doc = docs.start_document(area, year, user=request.user)
    log_request(request, AccessLogEntry.Action.CHANGE, obj=doc)
    return redirect("followup:document_edit", panel_id=panel_id, year=year)


@require_POST
def document_figures(request, panel_id: int, year: int):
    """Pull the computed picture into the document again."""
    area, doc = _document(request, panel_id, year)
    if doc is None:
        raise Http404
    if not docs.may_edit(request.user, area):
        raise PermissionDenied(_("Områdets problembild skrivs av lokalpolisområdets chef eller ombud."))
    docs.refresh_figures(doc)
    log_request(request, AccessLogEntry.Action.CHANGE, obj=doc, object_repr=f"{doc} (figures refreshed)")
    return redirect("followup:document", panel_id=panel_id, year=year)


def document_edit(request, panel_id: int, year: int):
    """Edit the document's texts, priorities, promises, partners and meetings in one form.

    Saved only if nobody saved the document since this form was opened (``version``); a
    conflict keeps the editor's changes on the page and shows what the other person saved.
    """
    area, doc = _document(request, panel_id, year)
    if doc is None:
        raise Http404(_("Dokumentet finns inte än."))
    if not docs.may_edit(request.user, area):
        raise PermissionDenied(_("Områdets problembild skrivs av lokalpolisområdets chef eller ombud."))
    conflict = None
    if request.method == "POST":
        form = DocumentForm(request.POST, instance=doc)
        sets = formsets(request.POST, instance=doc)
        if form.is_valid() and all(s.is_valid() for s in sets.values()):
            opened = form.cleaned_data["version"]
            edited = form.save(commit=False)
            edited.updated_by = request.user
            edited.updated_at = timezone.now()

            def save_all():
                edited.save()
                for s in sets.values():
                    s.save()

            try:
                save_if_current(edited, opened, save=save_all)
            except EditConflict as exc:
                conflict = exc.current
                # The editor's text stays in the form; the version moves on so that saving
                # again (after reading what changed) is a deliberate overwrite.
                data = request.POST.copy()
                data["version"] = str(conflict.version)
                form = DocumentForm(data, instance=PictureDocument.objects.get(pk=doc.pk))
                form.is_valid()
                sets = formsets(request.POST, instance=doc)
            else:
                log_request(request, AccessLogEntry.Action.CHANGE, obj=edited)
                messages.success(
                    request, _("Problembilden sparades (version %(v)s).") % {"v": edited.version}
                )
                return redirect("followup:document", panel_id=panel_id, year=year)
    else:
        form = DocumentForm(instance=doc, initial={"version": doc.version})
        sets = formsets(instance=doc)
    log_request(request, AccessLogEntry.Action.VIEW, obj=doc, object_repr=f"{doc} (edit)")
    return render(
        request,
        "followup/document_edit.html",
        {
            "area": area,
            "doc": doc,
            "form": form,
            "sets": sets,
            "conflict": conflict,
            "conflict_fields": _differences(conflict, form) if conflict else [],
        },
    )


def _differences(stored: PictureDocument, form: DocumentForm) -> list[tuple[str, str, str]]:
    """(field label, stored text, the editor's text) for every text that differs."""
    out = []
    for name in DocumentForm.Meta.fields:
        mine = str(form.data.get(name, ""))
        theirs = str(getattr(stored, name) or "")
        if mine.replace("\r\n", "\n").strip() != theirs.replace("\r\n", "\n").strip():
            out.append((str(PictureDocument._meta.get_field(name).verbose_name), theirs, mine))
    return out


def assessment(request, panel_id: int, year: int):
    """The document's intelligence assessment: intelligence roles read it (each read is logged),
    the area's intelligence coordinator writes it."""
    area, doc = _document(request, panel_id, year)
    if doc is None:
        raise Http404(_("Dokumentet finns inte än."))
    if not docs.may_read_assessment(request.user):
        raise PermissionDenied(_("Underrättelsebedömningen läses bara av underrättelseroller."))
    item = docs.assessment_of(doc)
    may_edit = docs.may_edit_assessment(request.user, area)
    form = AssessmentForm(request.POST or None, instance=item)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("Underrättelsebedömningen skrivs av områdets underrättelsesamordnare."))
        if form.is_valid():
            saved = form.save(commit=False)
            saved.updated_by = request.user
            saved.updated_at = timezone.now()
            saved.save()
            log_request(request, AccessLogEntry.Action.CHANGE, obj=saved)
            return redirect("followup:assessment", panel_id=panel_id, year=year)
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="followup.assessment",
        object_id=doc.pk,
        object_repr=f"{doc} (intelligence assessment)",
    )
    return render(
        request,
        "followup/assessment.html",
        {"area": area, "doc": doc, "item": item, "form": form, "may_edit": may_edit},
    )


def document_print(request, panel_id: int, year: int):
    """The document ready to print (no intelligence assessment)."""
    area, doc = _document(request, panel_id, year)
    if doc is None:
        raise Http404(_("Dokumentet finns inte än."))
    log_request(request, AccessLogEntry.Action.VIEW, obj=doc, object_repr=f"{doc} (print)")
    return render(request, "followup/document_print.html", _document_context(request, area, doc))


def document_pdf(request, panel_id: int, year: int):
    """The document as a PDF (no intelligence assessment), logged as an export with reason and recipient."""
    area, doc = _document(request, panel_id, year)
    if doc is None:
        raise Http404(_("Dokumentet finns inte än."))
    why = export_reason(
        request,
        title=_("Lokal problembild %(area)s %(year)s") % {"area": area.name, "year": year},
        action=_("Ladda ned PDF"),
    )
    if not hasattr(why, "reason"):
        return why
    from problembild.core.pdf import pdf_response

    html = render_to_string(
        "followup/document_pdf.html", {**_document_context(request, area, doc), "pdf": True}, request=request
    )
    log_request(
        request,
        AccessLogEntry.Action.EXPORT,
        obj=doc,
        object_repr=f"{doc} (pdf)",
        reason=why.reason,
        recipient=why.recipient,
    )
    return pdf_response(request, html, f"problembild-{area.name}-{year}")


# --- activities ----------------------------------------------------------------------


def _activity_filters(request):
    base = Activity.objects.for_user(request.user).select_related("area", "method", "priority", "promise")
    return ActivityFilterSet(request.GET, base, request=request)


def activities(request):
    """Activities in the user's areas, filtered; a form to add one."""
    filters = _activity_filters(request)
    qs = filters.qs.order_by("-date", "area__name")
    areas = Area.objects.for_user(request.user).current().order_by("name")
    # Its own ids: the filter form above has fields of the same names.
    form = ActivityForm(
        request.POST or None,
        areas=areas,
        initial={"date": timezone.localdate(), "officers": 1},
        auto_id="activity_%s",
    )
    if request.method == "POST" and form.is_valid():
        if not docs.may_log_activity(request.user, form.cleaned_data["area"]):
            raise PermissionDenied(_("Din roll får inte registrera aktiviteter här."))
        activity = form.save(commit=False)
        activity.created_by = request.user
        activity.source = _("Inmatad av %(user)s") % {"user": request.user.get_username()}
        activity.save()
        log_request(request, AccessLogEntry.Action.CHANGE, obj=activity)
        messages.success(request, _("Aktiviteten sparades."))
        return redirect(f"{reverse('followup:activities')}?{request.GET.urlencode()}")
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="followup.activity",
        object_repr=f"activities ({qs.count()})",
    )
    return render(
        request,
        "followup/activities.html",
        {
            "filter": filters,
            "table": ActivityTable(qs[:500]),
            "total": qs.count(),
            "form": form,
            "query": request.GET.urlencode(),
        },
    )


def activities_export(request, fmt: str):
    filters = _activity_filters(request)
    return export_table(
        request,
        ActivityTable(filters.qs.order_by("-date", "area__name")),
        name="problembild-aktiviteter",
        fmt=fmt,
        title=_("Aktiviteter"),
        object_type="followup.activity",
    )


# --- effect evaluations ------------------------------------------------------------------

EVALUATION_ROLES = frozenset({"national_analyst", "intelligence_coordinator"}) | MANAGER_ROLES


def evaluations(request):
    """The user's evaluations, and the form that runs a new one (prefilled from a priority)."""
    areas = Area.objects.for_user(request.user).current().order_by("name")
    # Difference-in-differences on counts is the calibrated default (docs/benchmarks.md).
    initial = {"method": Evaluation.Method.DID}
    priority = None
    if request.GET.get("priority", "").isdigit():
        priority = (
            Priority.objects.filter(pk=request.GET["priority"], document__area__in=areas)
            .select_related("document__area")
            .first()
        )
        if priority is not None:
            first = priority.activities.order_by("date").first()
            initial.update(
                title=priority.title,
                area=priority.document.area,
                indicator=(priority.indicators or [""])[0],
                start=(first.date if first else date(priority.document.year, 1, 1)).strftime("%Y-%m"),
                priority=priority.pk,
            )
    form = EvaluationForm(request.POST or None, areas=areas, initial=initial)
    may_run = has_role(request.user, EVALUATION_ROLES)
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied(_("Din roll får inte köra effektutvärderingar."))
        if form.is_valid():
            data = form.cleaned_data
            linked = (
                Priority.objects.filter(pk=data["priority"], document__area=data["area"]).first()
                if data["priority"]
                else None
            )
            try:
                evaluation = evaluate_measure(
                    data["area"],
                    data["indicator"],
                    data["start"],
                    data["method"],
                    title=data["title"],
                    user=request.user,
                    priority=linked,
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                log_request(request, AccessLogEntry.Action.CHANGE, obj=evaluation)
                return redirect("followup:evaluation", pk=evaluation.pk)
    rows = list(Evaluation.objects.for_user(request.user).select_related("area")[:100])
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="followup.evaluation",
        object_repr=f"evaluations ({len(rows)})",
    )
    return render(request, "followup/evaluations.html", {"form": form, "rows": rows, "may_run": may_run})


def _evaluation(request, pk: int) -> Evaluation:
    evaluation = Evaluation.objects.select_related("area__org_unit").filter(pk=pk).first()
    if evaluation is None:
        raise Http404(_("Ingen sådan utvärdering."))
    require_unit_visible(request.user, evaluation.area.org_unit)
    return evaluation


def evaluation_page(request, pk: int):
    """An evaluation: the effect with its interval, the fit, the placebos, the detectable effect, warnings."""
    evaluation = _evaluation(request, pk)
    log_request(request, AccessLogEntry.Action.VIEW, obj=evaluation)
    r = evaluation.result
    return render(
        request,
        "followup/evaluation.html",
        {
            "evaluation": evaluation,
            "r": r,
            "pct": {k: _pct(r.get(k)) for k in ("relative_effect",)},
            "pct_interval": [
                _pct(v) or ("−∞" if i == 0 else "∞")
                for i, v in enumerate(r.get("relative_interval") or [None, None])
            ],
            "bounds": [
                "−∞" if (r.get("interval") or [None, None])[0] is None else f"{r['interval'][0]:.2f}",
                "∞" if (r.get("interval") or [None, None])[1] is None else f"{r['interval'][1]:.2f}",
            ],
            "mde_pct": _pct(-(r.get("mde") or {}).get("relative", 0) or None) if r.get("mde") else None,
            "table": EvaluationTable(r.get("per_period") or []),
            "chart": {k: r.get(k) for k in ("months", "treated", "counterfactual", "start_month", "placebo")},
        },
    )


def _pct(value) -> str | None:
    return None if value is None else f"{value * 100:+.0f} %"


def evaluation_export(request, pk: int, fmt: str):
    evaluation = _evaluation(request, pk)
    return export_table(
        request,
        EvaluationTable(evaluation.result.get("per_period") or []),
        name=f"problembild-utvardering-{evaluation.pk}",
        fmt=fmt,
        title=str(evaluation),
        obj=evaluation,
    )


# --- methods -----------------------------------------------------------------------------


def methods(request):
    """The method support: each method with its evidence (EMMIE) and how its use is measured."""
    rows = list(Method.objects.all())
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="followup.method", object_repr="method catalogue"
    )
    return render(request, "followup/methods.html", {"table": MethodTable(rows), "methods": rows})


# --- the quarterly report -----------------------------------------------------------------


def _report(request, code: str, quarter: str):
    unit = get_unit(request, code)
    label = _quarter(quarter)
    data = quarterly_report(unit, label)
    return unit, label, data


def report_page(request, code: str, quarter: str):
    """The quarterly follow-up of a unit (HTML)."""
    unit, label, data = _report(request, code, quarter)
    log_request(
        request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"quarterly report {unit.name} {label}"
    )
    return render(request, "followup/report.html", {"unit": unit, "report": data, "pdf": False})


def report_pdf(request, code: str, quarter: str):
    """The quarterly follow-up as a PDF (WeasyPrint, fonts shipped, nothing fetched from outside)."""
    unit, label, data = _report(request, code, quarter)
    why = export_reason(
        request,
        title=_("Kvartalsrapport %(unit)s %(q)s") % {"unit": unit.name, "q": label},
        action=_("Ladda ned PDF"),
    )
    if not hasattr(why, "reason"):
        return why
    from problembild.core.pdf import pdf_response

    html = render_to_string(
        "followup/report_pdf.html", {"unit": unit, "report": data, "pdf": True}, request=request
    )
    log_request(
        request,
        AccessLogEntry.Action.EXPORT,
        obj=unit,
        object_repr=f"quarterly report {unit.name} {label} (pdf)",
        reason=why.reason,
        recipient=why.recipient,
    )
    return pdf_response(request, html, f"problembild-kvartal-{unit.code}-{label}")
