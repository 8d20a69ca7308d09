"""The audit pages: the dashboard (also for a past date), a measure with its workflow and
evidence, evidence downloads, and the status report for the police leadership (HTML, PDF, Excel)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from problembild.core.access import log_request
from problembild.core.exports import export_reason, export_table
from problembild.core.locking import EditConflict, save_if_current
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.roles import ROLES

from . import workflow
from .filtersets import AuditExportFilterSet, AuditFilterSet
from .forms import ActionForm, EvidenceForm, MeasureForm
from .models import AuditReport, Evidence, Measure, Recommendation
from .status import MeasureState, end_of, owner_names, reminders, states, summarise
from .tables import EvidenceTable, MeasureTable, OwnerTable, RecommendationTable, ReportTable


def measure_states(request, filters) -> tuple[list[MeasureState], date]:
    """The measures in the user's scope, filtered, as they stood on the filters' date."""
    qs = Measure.objects.for_user(request.user)
    if filters.value("report"):
        qs = qs.filter(recommendation__report__reference=filters.value("report"))
    if filters.value("owner"):
        unit = OrgUnit.objects.filter(code=filters.value("owner")).first()
        qs = qs.filter(owner__in=unit.descendants()) if unit else qs.none()
    on = filters.date() or timezone.localdate()
    rows = states(qs, on)
    if filters.value("status"):
        rows = [r for r in rows if r.status == filters.value("status")]
    return rows, on


def _counts(rows: list[MeasureState]) -> dict:
    s = summarise(rows, rows[0].on if rows else timezone.localdate())
    return {
        **s.counts,
        "total": s.total,
        "overdue": s.overdue,
        "due_soon": s.due_soon,
        "share_closed": s.share_closed,
    }


def measure_rows(rows: list[MeasureState]) -> list[dict]:
    """The states with the names the tables show (recommendation, owner, role, evidence then)."""
    recs = {
        r.pk: r
        for r in Recommendation.objects.filter(pk__in={s.recommendation_id for s in rows}).select_related(
            "report"
        )
    }
    owners = owner_names(s.owner_id for s in rows)
    evidence: dict[int, int] = {}
    if rows:
        evidence = dict(
            Evidence.objects.filter(measure_id__in=[s.pk for s in rows], added__lt=end_of(rows[0].on))
            .values("measure_id")
            .annotate(n=Count("pk"))
            .values_list("measure_id", "n")
        )
    accepted = {s.pk: s.accepted for s in rows}
    return [
        {
            "pk": s.pk,
            "title": s.title,
            "recommendation": str(recs[s.recommendation_id]),
            "recommendation_number": recs[s.recommendation_id].number,
            "report": recs[s.recommendation_id].report.reference,
            "owner": owners[s.owner_id].name,
            "owner_code": owners[s.owner_id].code,
            "role": str(ROLES.get(s.responsible_role, s.responsible_role)),
            "role_code": s.responsible_role,
            "deadline": s.deadline,
            "status": s.status,
            "accepted": accepted[s.pk],
            "days_overdue": s.days_overdue,
            "due_soon": s.due_soon,
            "evidence": evidence.get(s.pk, 0),
        }
        for s in rows
    ]


def grouped_tables(rows: list[MeasureState]) -> dict:
    """Status per report, per recommendation and per owner unit, as tables."""
    recs = {
        r.pk: r
        for r in Recommendation.objects.filter(pk__in={s.recommendation_id for s in rows}).select_related(
            "report", "indicator"
        )
    }
    owners = owner_names(s.owner_id for s in rows)

    def by(key, name, **extra) -> list[dict]:
        groups: dict = {}
        for s in rows:
            groups.setdefault(key(s), []).append(s)
        return [
            {"name": name(k), **extra.get("more", lambda k: {})(k), **_counts(items)}
            for k, items in groups.items()
        ]

    reports = by(lambda s: recs[s.recommendation_id].report, lambda r: str(r))
    recommendations = by(
        lambda s: recs[s.recommendation_id],
        lambda r: f"{r.number}. {r.text}",
        more=lambda r: {"indicator": r.indicator.title if r.indicator else ""},
    )
    owner_rows = by(lambda s: owners[s.owner_id], lambda u: u.name)
    return {
        "reports": ReportTable(reports),
        "recommendations": RecommendationTable(sorted(recommendations, key=lambda r: r["name"])),
        "owners": OwnerTable(sorted(owner_rows, key=lambda r: (-r["overdue"], r["name"]))),
    }


def dashboard(request):
    """Overdue and due-soon measures, status per report, recommendation and owner, on any date."""
    filters = AuditFilterSet(request.GET, Measure.objects.none(), request=request)
    rows, on = measure_states(request, filters)
    summary = summarise(rows, on)
    table_rows = measure_rows(rows)
    owners = owner_names(s.owner_id for s in rows)
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="audit.measure", object_repr=f"audit dashboard {on}"
    )
    return render(
        request,
        "audit/dashboard.html",
        {
            "report_list": AuditReport.objects.all(),
            "filter": filters,
            "query": request.GET.urlencode(),
            "on": on,
            "past": on < timezone.localdate(),
            "summary": summary,
            "statuses": [(code, label, summary.counts[code]) for code, label in Measure.Status.choices],
            "table": MeasureTable(table_rows),
            "reminders": [
                (owners[owner], [r for r in table_rows if r["pk"] in {i.pk for i in items}])
                for owner, items in sorted(reminders(rows).items(), key=lambda kv: owners[kv[0]].name)
            ],
            **grouped_tables(rows),
            "example": Measure.objects.filter(pk__in=[r.pk for r in rows], example=True).exists(),
        },
    )


def dashboard_export(request, fmt: str):
    """One of the dashboard's tables (``table=measures|reports|recommendations|owners``) as CSV or Excel."""
    filters = AuditExportFilterSet(request.GET, Measure.objects.none(), request=request)
    rows, on = measure_states(request, filters)
    which = filters.value("table")
    table = MeasureTable(measure_rows(rows)) if which == "measures" else grouped_tables(rows)[which]
    return export_table(
        request,
        table,
        name=f"problembild-revision-{which}-{on:%Y-%m-%d}",
        fmt=fmt,
        title=_("Revisionsuppföljning per %(on)s") % {"on": f"{on:%Y-%m-%d}"},
        object_type="audit.measure",
    )


def _measure(request, measure_id: int) -> Measure:
    measure = (
        Measure.objects.select_related("owner", "recommendation__report", "recommendation__indicator")
        .filter(pk=measure_id)
        .first()
    )
    if measure is None:
        raise Http404(_("Ingen sådan åtgärd."))
    if not Measure.objects.for_user(request.user).filter(pk=measure_id).exists():
        raise PermissionDenied(_("Åtgärden ligger utanför din organisatoriska behörighet."))
    return measure


def indicator_movement(measure: Measure) -> dict | None:
    """Whether the recommendation's indicator moved for the owner unit: the twelve months before the
    measure started (or was decided) against the latest twelve months, and which way is better."""
    indicator = measure.recommendation.indicator
    if indicator is None:
        return None
    from problembild.followup.measures import measure_value

    start = measure.started or measure.recommendation.report.issued
    today = timezone.localdate()
    before = measure_value(indicator, measure.owner, start)
    now = measure_value(indicator, measure.owner, today)
    better = None
    if before is not None and now is not None and now != before:
        better = (now < before) == (indicator.direction == "decrease")
    return {
        "indicator": indicator,
        "before": before,
        "now": now,
        "start": start,
        "today": today,
        "better": better,
    }


def _shown(field: str, value) -> str:
    """A field's value as the history shows it: statuses by their label, dates as ISO."""
    if value is None or value == "":
        return "–"
    if field == "status":
        return str(Measure.Status(value).label)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _history(measure: Measure) -> list[dict]:
    """Who changed what when: each version against the one before, newest first."""
    versions = list(measure.history.select_related("history_user").order_by("history_date", "history_id"))
    out = []
    for previous, current in zip([None, *versions[:-1]], versions, strict=True):
        changes = []
        if previous is not None:
            delta = current.diff_against(previous, excluded_fields=["version", "changed"])
            changes = [
                (
                    Measure._meta.get_field(c.field).verbose_name,
                    _shown(c.field, c.old),
                    _shown(c.field, c.new),
                )
                for c in delta.changes
            ]
        out.append(
            {
                "when": current.history_date,
                "who": current.history_user.get_username() if current.history_user else _("exempel/import"),
                "status": current.get_status_display(),
                "reason": current.history_change_reason or "",
                "changes": changes,
                "created": previous is None,
            }
        )
    return out[::-1]


def measure_page(request, measure_id: int):
    """A measure: its status and allowed actions, evidence, the indicator, and its full history."""
    measure = _measure(request, measure_id)
    actions = workflow.allowed(request.user, measure)
    owner = workflow.is_owner(request.user, measure)
    may_add = owner or workflow.is_auditor(request.user)
    log_request(request, AccessLogEntry.Action.VIEW, obj=measure, object_repr=str(measure))
    return render(
        request,
        "audit/measure.html",
        {
            "measure": measure,
            "actions": [
                (
                    a,
                    ActionForm(
                        initial={"action": a.code, "version": measure.version}, auto_id=f"{a.code}_%s"
                    ),
                )
                for a in actions
            ],
            "evidence_table": EvidenceTable(measure.evidence.all()),
            "evidence_form": EvidenceForm() if may_add else None,
            "can_edit": owner,
            "movement": indicator_movement(measure),
            "history": _history(measure),
            "overdue": measure.status in (Measure.Status.PLANNED, Measure.Status.ONGOING)
            and measure.deadline < timezone.localdate(),
        },
    )


def _conflict_message(exc: EditConflict) -> str:
    who = exc.current.history.first()
    return _(
        "Åtgärden ändrades av %(who)s %(when)s medan du hade den öppen; inget av dina ändringar sparades. "
        "Läs den nya versionen och försök igen."
    ) % {
        "who": who.history_user.get_username() if who and who.history_user else "?",
        "when": f"{exc.current.changed:%Y-%m-%d %H:%M}",
    }


@require_POST
def measure_action(request, measure_id: int):
    """Take one step of the workflow (owners up to done; auditors verify, reopen, accept, reject)."""
    measure = _measure(request, measure_id)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Ogiltigt formulär: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("audit:measure", measure_id=measure.pk)
    data = form.cleaned_data
    try:
        workflow.apply(measure, data["action"], request.user, version=data["version"], text=data["text"])
    except workflow.TransitionRefused as exc:
        messages.error(request, _("Inte sparat: %(error)s") % {"error": exc})
    except EditConflict as exc:
        messages.error(request, _conflict_message(exc))
    else:
        log_request(
            request, AccessLogEntry.Action.CHANGE, obj=measure, object_repr=f"{measure}: {data['action']}"
        )
        messages.success(request, _("Status: %(status)s.") % {"status": measure.get_status_display()})
    return redirect("audit:measure", measure_id=measure.pk)


@require_POST
def evidence_add(request, measure_id: int):
    """Attach a note, a link or a file (owners and auditors); a refused file says why."""
    from problembild.core.uploads import UploadRefused, store_evidence

    measure = _measure(request, measure_id)
    if not (workflow.is_owner(request.user, measure) or workflow.is_auditor(request.user)):
        raise PermissionDenied(_("Underlag läggs till av åtgärdens ägare och av revisorer."))
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Underlaget sparades inte: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("audit:measure", measure_id=measure.pk)
    data = form.cleaned_data
    evidence = Evidence(
        measure=measure,
        kind=data["kind"],
        text=data["text"],
        link=data["link"] if data["kind"] == Evidence.Kind.LINK else "",
        added_by=request.user,
        added_by_name=request.user.get_username(),
    )
    if data["kind"] == Evidence.Kind.FILE:
        try:
            stored = store_evidence(data["file"])
        except UploadRefused as exc:
            log_request(
                request,
                AccessLogEntry.Action.DENIED,
                obj=measure,
                object_repr=f"evidence refused: {exc}"[:300],
            )
            messages.error(request, _("Filen togs inte emot: %(error)s") % {"error": exc})
            return redirect("audit:measure", measure_id=measure.pk)
        evidence.file_key, evidence.file_name = stored.key, stored.original_name
        evidence.content_type, evidence.size, evidence.sha256 = (
            stored.content_type,
            stored.size,
            stored.sha256,
        )
    evidence.save()
    log_request(
        request, AccessLogEntry.Action.CHANGE, obj=evidence, object_repr=f"{measure}: evidence {evidence}"
    )
    messages.success(request, _("Underlaget sparades."))
    return redirect("audit:measure", measure_id=measure.pk)


def evidence_file(request, evidence_id: int):
    """An evidence file, only ever as a download with a safe content type."""
    from problembild.core.uploads import download_response

    evidence = (
        Evidence.objects.select_related("measure").filter(pk=evidence_id, kind=Evidence.Kind.FILE).first()
    )
    if evidence is None:
        raise Http404(_("Ingen sådan fil."))
    if not Evidence.objects.for_user(request.user).filter(pk=evidence_id).exists():
        raise PermissionDenied(_("Underlaget ligger utanför din organisatoriska behörighet."))
    log_request(
        request, AccessLogEntry.Action.EXPORT, obj=evidence, object_repr=f"evidence file {evidence.file_name}"
    )
    return download_response(evidence.file_key, evidence.file_name, evidence.content_type)


def measure_edit(request, measure_id: int):
    """Edit the measure's title, description and deadline (owners), refusing a stale version."""
    measure = _measure(request, measure_id)
    if not workflow.is_owner(request.user, measure):
        raise PermissionDenied(_("Åtgärden ändras av dess ägare."))
    form = MeasureForm(request.POST or None, instance=measure)
    if request.method == "POST" and form.is_valid():
        try:
            measure.changed = timezone.now()
            save_if_current(form.instance, form.cleaned_data["version"], save=form.save)
        except EditConflict as exc:
            messages.error(request, _conflict_message(exc))
            return redirect("audit:measure_edit", measure_id=measure.pk)
        log_request(request, AccessLogEntry.Action.CHANGE, obj=measure, object_repr=f"{measure} (edited)")
        messages.success(request, _("Åtgärden sparades."))
        return redirect("audit:measure", measure_id=measure.pk)
    log_request(request, AccessLogEntry.Action.VIEW, obj=measure, object_repr=f"{measure} (edit)")
    return render(request, "audit/measure_edit.html", {"measure": measure, "form": form})


def _report_context(request, on: date) -> dict:
    filters = AuditFilterSet({"on": f"{on:%Y-%m-%d}"}, Measure.objects.none(), request=request)
    rows, on = measure_states(request, filters)
    table_rows = measure_rows(rows)
    summary = summarise(rows, on)
    return {
        "on": on,
        "summary": summary,
        "statuses": [(label, summary.counts[code]) for code, label in Measure.Status.choices],
        "overdue": [r for r in table_rows if r["days_overdue"]],
        "table": MeasureTable(table_rows),
        **grouped_tables(rows),
        "report_list": AuditReport.objects.all(),
        "example": Measure.objects.filter(pk__in=[r.pk for r in rows], example=True).exists(),
        "generated": timezone.now(),
    }


def _report_date(request) -> date:
    filters = AuditFilterSet(request.GET, Measure.objects.none(), request=request)
    return filters.date() or timezone.localdate()


def status_report(request):
    """The status report for the police leadership (HTML; `?on=` for a past date)."""
    context = _report_context(request, _report_date(request))
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="audit.measure",
        object_repr=f"audit report {context['on']}",
    )
    return render(request, "audit/report.html", {**context, "pdf": False, "query": request.GET.urlencode()})


def status_report_pdf(request):
    """The status report as a PDF (the quarterly report's renderer: WeasyPrint, fonts shipped)."""
    from problembild.core.pdf import pdf_response

    on = _report_date(request)
    why = export_reason(
        request,
        title=_("Statusrapport revision %(on)s") % {"on": f"{on:%Y-%m-%d}"},
        action=_("Ladda ned PDF"),
    )
    if not hasattr(why, "reason"):
        return why
    context = _report_context(request, on)
    html = render_to_string("audit/report_pdf.html", {**context, "pdf": True}, request=request)
    log_request(
        request,
        AccessLogEntry.Action.EXPORT,
        object_type="audit.measure",
        object_repr=f"audit report {on} (pdf)",
        reason=why.reason,
        recipient=why.recipient,
    )
    return pdf_response(request, html, f"problembild-revision-{on:%Y-%m-%d}")
