"""The assessment pages: the list diff (page, exports, print), rounds, answers, decisions, publishing."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from problembild.areas.models import Area, AssessmentRound
from problembild.core.access import log_request
from problembild.core.exports import export_table
from problembild.core.locking import EditConflict, save_if_current
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.roles import (
    INTELLIGENCE_COORDINATOR,
    LOCAL_CHIEF,
    NATIONAL_ANALYST,
    POLICE_AREA_MANAGER,
    has_role,
)
from problembild.core.scoping import in_scope, unit_for

from . import rounds
from .diff import KINDS, list_diff
from .filtersets import DiffExportFilterSet, DiffFilterSet
from .forms import AnswerForm, DecisionForm, EvidenceForm, OpenRoundForm, ProposeForm, category_choices
from .models import NOT_LISTED, Answer, AnswerEvidence, CriteriaSet, Round
from .tables import AgreementTable, AnswerTable, ChangeTable, RegionTable

#: Who answers for a local police area; who decides for the nation (Noa).
ANSWER_ROLES = frozenset({LOCAL_CHIEF, INTELLIGENCE_COORDINATOR, POLICE_AREA_MANAGER})
DECIDE_ROLES = frozenset({NATIONAL_ANALYST})


def is_noa(user) -> bool:
    return has_role(user, DECIDE_ROLES)


# --- the list diff ---------------------------------------------------------------------------


SUMMARY_WORDS = {
    "added": gettext_lazy("tillkom"),
    "removed": gettext_lazy("utgick"),
    "raised": gettext_lazy("fick högre kategori"),
    "lowered": gettext_lazy("fick lägre kategori"),
    "unchanged": gettext_lazy("oförändrade"),
    "split": gettext_lazy("delades"),
    "merged": gettext_lazy("slogs samman"),
}


def change_rows(diff) -> list[dict]:
    """Every area with its kind of change; splits and mergers as rows of their own."""
    rows = []
    for kind in KINDS:
        for item in diff.changes[kind]:
            related = item.get("into") or item.get("of") or []
            rows.append(
                {
                    **item,
                    "kind": kind,
                    "from": item.get("from") or "",
                    "to": item.get("to") or "",
                    "related": ", ".join(r["name"] for r in related),
                }
            )
    return rows


def _diff(request, filterset=DiffFilterSet):
    filters = filterset(request.GET, Area.objects.none(), request=request)
    years = filters.years()
    if years is None:
        raise Http404(_("Registret har färre än två listor."))
    try:
        # The lists of areas are scoped; the national counts are of the published lists.
        scoped = list_diff(*years, areas=Area.objects.for_user(request.user))
        national = list_diff(*years)
    except LookupError as exc:
        raise Http404(str(exc)) from None
    return filters, scoped, national


def diff_page(request):
    """What changed from one list to the next: added, removed, raised, lowered, split, merged, unchanged."""
    filters, scoped, national = _diff(request)
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="areas.assessmentround",
        object_repr=f"list diff {scoped.from_year}-{scoped.to_year}",
    )  # fmt: skip
    template = "assessment/diff_print.html" if request.GET.get("print") else "assessment/diff.html"
    return render(
        request,
        template,
        {
            "filter": filters,
            "query": request.GET.urlencode(),
            "diff": scoped,
            "national": national.counts(),
            "national_totals": national.totals,
            "table": ChangeTable(change_rows(scoped)),
            "regions": RegionTable(scoped.by_region()),
            "kinds": [(k, len(scoped.changes[k]), national.counts()[k]) for k in KINDS],
            "summary": ", ".join(
                f"{n} {SUMMARY_WORDS[k]}"
                for k, n in national.counts().items()
                if n or k in ("added", "removed")
            ),
        },
    )


def diff_export(request, fmt: str):
    """The diff per area (``table=changes``) or per region (``table=regions``) as CSV or Excel."""
    filters, scoped, _national = _diff(request, DiffExportFilterSet)
    which = filters.value("table")
    table = ChangeTable(change_rows(scoped)) if which == "changes" else RegionTable(scoped.by_region())
    return export_table(
        request,
        table,
        name=f"problembild-listforandring-{scoped.from_year}-{scoped.to_year}-{which}",
        fmt=fmt,
        title=_("Listans förändring %(a)s–%(b)s") % {"a": scoped.from_year, "b": scoped.to_year},
        object_type="areas.assessmentround",
    )


# --- rounds ----------------------------------------------------------------------------------


def index(request):
    """The rounds, the criteria sets with each list year's categories, the register's lists and the diffs."""
    lists = list(AssessmentRound.objects.order_by("-year"))
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="assessment.round", object_repr="assessment rounds"
    )
    return render(
        request,
        "assessment/index.html",
        {
            "rounds": Round.objects.select_related("criteria_set"),
            "criteria_sets": CriteriaSet.objects.prefetch_related("criteria"),
            "lists": lists,
            "pairs": list(zip(lists[1:], lists, strict=False)),
            "open_form": OpenRoundForm() if is_noa(request.user) else None,
        },
    )


@require_POST
def round_open(request):
    """Noa opens a round with a criteria set, a deadline and a cut-off date."""
    if not is_noa(request.user):
        raise PermissionDenied(_("Omgångar öppnas av Noa."))
    form = OpenRoundForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Omgången öppnades inte: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("assessment:index")
    try:
        rnd = rounds.open_round(
            form.cleaned_data["criteria_set"],
            deadline=form.cleaned_data["deadline"],
            cutoff=form.cleaned_data["cutoff"],
            user=request.user,
        )
    except rounds.RoundError as exc:
        messages.error(request, _("Omgången öppnades inte: %(error)s") % {"error": exc})
        return redirect("assessment:index")
    log_request(request, AccessLogEntry.Action.CHANGE, obj=rnd, object_repr=f"opened round {rnd}")
    return redirect("assessment:round", round_id=rnd.pk)


def get_round(round_id: int) -> Round:
    rnd = Round.objects.select_related("criteria_set").filter(pk=round_id).first()
    if rnd is None:
        raise Http404(_("Ingen sådan omgång."))
    return rnd


def visible_answers(request, rnd: Round):
    """Noa sees every answer; others those of their own units (their drafts only to themselves)."""
    qs = rnd.answers.select_related("area", "org_unit__parent__parent", "decision")
    return qs if is_noa(request.user) else qs.filter(pk__in=Answer.objects.for_user(request.user))


def _answer_rows(answers) -> list[dict]:
    rows = []
    for a in answers:
        latest = a.area.classifications.order_by("-round__year").first() if a.area_id else None
        objective = rounds.objective_category(a)
        decision = getattr(a, "decision", None)
        rows.append(
            {
                "pk": a.pk,
                "name": a.name + ("" if a.area_id else " " + _("(nytt)")),
                "unit": a.org_unit.name,
                "status": a.get_status_display(),
                "previous": latest.category if latest else "",
                "proposal": a.proposed_category,
                "objective": "–" if objective is None else (objective or _("inte listat")),
                "decision": decision.category if decision else "",
                "reason": decision.reason if decision else "",
            }
        )
    return rows


def round_page(request, round_id: int):
    """A round: the answers you may see, the decisions, agreement per region, the steps left."""
    rnd = get_round(round_id)
    answers = list(visible_answers(request, rnd))
    noa = is_noa(request.user)
    unit = unit_for(request.user)
    can_propose = not rnd.read_only and unit is not None and unit.kind == OrgUnit.Kind.LOCAL_POLICE_AREA and in_scope(
        request.user, ANSWER_ROLES, unit
    )  # fmt: skip
    log_request(request, AccessLogEntry.Action.VIEW, obj=rnd, object_repr=f"round {rnd}")
    return render(
        request,
        "assessment/round.html",
        {
            "round": rnd,
            "table": AnswerTable(_answer_rows(answers)),
            "noa": noa,
            "agreement": AgreementTable(rounds.agreement_by_region(rnd)) if noa else None,
            "counts": {
                "answers": len(answers),
                "submitted": sum(a.status == Answer.Status.SUBMITTED for a in answers),
                "decided": sum(hasattr(a, "decision") for a in answers),
            },
            "propose_form": ProposeForm() if can_propose else None,
            "criteria": rnd.criteria_set.criteria.all(),
        },
    )


@require_POST
def propose(request, round_id: int):
    """A local police area proposes a new area with its boundary."""
    rnd = get_round(round_id)
    unit = unit_for(request.user)
    if (
        unit is None
        or unit.kind != OrgUnit.Kind.LOCAL_POLICE_AREA
        or not in_scope(request.user, ANSWER_ROLES, unit)
    ):
        raise PermissionDenied(_("Nya områden föreslås av lokalpolisområdet."))
    form = ProposeForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Förslaget sparades inte: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("assessment:round", round_id=rnd.pk)
    try:
        answer = rounds.propose_area(
            rnd, unit, name=form.cleaned_data["name"], boundary=form.cleaned_data["boundary"]
        )
    except rounds.RoundError as exc:
        messages.error(request, _("Förslaget sparades inte: %(error)s") % {"error": exc})
        return redirect("assessment:round", round_id=rnd.pk)
    log_request(request, AccessLogEntry.Action.CHANGE, obj=answer, object_repr=f"proposed area {answer.name}")
    return redirect("assessment:answer", answer_id=answer.pk)


def _answer(request, answer_id: int) -> Answer:
    answer = (
        Answer.objects.select_related("round__criteria_set", "area", "org_unit").filter(pk=answer_id).first()
    )
    if answer is None:
        raise Http404(_("Inget sådant svar."))
    if not (is_noa(request.user) or Answer.objects.for_user(request.user).filter(pk=answer_id).exists()):
        raise PermissionDenied(_("Svaret hör till ett annat lokalpolisområde."))
    return answer


def may_edit(user, answer: Answer) -> bool:
    """The answering local police area, while the answer is a draft and the round open."""
    return (
        not answer.round.read_only
        and answer.status == Answer.Status.DRAFT
        and in_scope(user, ANSWER_ROLES, answer.org_unit)
    )


def _level_text(criterion, level: int | None) -> str:
    return criterion.scale[level] if level is not None and 0 <= level < len(criterion.scale) else ""


def answer_page(request, answer_id: int):
    """One answer: the matrix, the objective indicators, evidence, the proposal; edit, submit, decide."""
    answer = _answer(request, answer_id)
    rnd = answer.round
    criteria = list(rnd.criteria_set.criteria.all())
    matrix = [c for c in criteria if c.kind == "matrix"]
    editable = may_edit(request.user, answer)
    choices = category_choices(rnd.criteria_set)
    form = AnswerForm(request.POST or None, instance=answer, criteria=matrix, categories=choices)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("Svaret kan inte ändras: det är inlämnat eller omgången är stängd."))
        if form.is_valid():
            answer.matrix = form.matrix()
            try:
                save_if_current(answer, form.cleaned_data["version"], save=form.save)
            except EditConflict:
                messages.error(
                    request, _("Någon annan sparade svaret medan du hade det öppet; läs om och försök igen.")
                )
                return redirect("assessment:answer", answer_id=answer.pk)
            log_request(
                request, AccessLogEntry.Action.CHANGE, obj=answer, object_repr=f"answer {answer.name}"
            )
            if request.POST.get("submit") == "1":
                try:
                    rounds.submit(answer, request.user)
                except rounds.RoundError as exc:
                    messages.error(
                        request, _("Svaret sparades men lämnades inte in: %(error)s") % {"error": exc}
                    )
                else:
                    messages.success(request, _("Svaret är inlämnat."))
            else:
                messages.success(request, _("Svaret sparades."))
            return redirect("assessment:answer", answer_id=answer.pk)
    decision = getattr(answer, "decision", None)
    objective = rounds.objective_category(answer)
    log_request(request, AccessLogEntry.Action.VIEW, obj=answer, object_repr=f"answer {answer.name}")
    return render(
        request,
        "assessment/answer.html",
        {
            "answer": answer,
            "round": rnd,
            "form": form if editable else None,
            "matrix": [
                (c, answer.matrix.get(c.code), _level_text(c, answer.matrix.get(c.code))) for c in matrix
            ],
            "objective_rows": [
                (c, answer.objective.get(c.code, {})) for c in criteria if c.kind == "objective"
            ],
            "objective": objective,
            "evidence": answer.evidence.select_related("criterion"),
            "evidence_form": EvidenceForm(criteria=rnd.criteria_set.criteria.all()) if editable else None,
            "decision": decision,
            "decision_form": DecisionForm(categories=choices, initial={"category": answer.proposed_category})
            if is_noa(request.user)
            and not rnd.read_only
            and (answer.status == Answer.Status.SUBMITTED or rnd.deadline < timezone.localdate())
            else None,
            "history": answer.history.select_related("history_user")[:20],
            "not_listed": NOT_LISTED,
        },
    )


@require_POST
def evidence_add(request, answer_id: int):
    """Evidence for a criterion: text, a link to the problem picture, or a document (checked by content)."""

    from problembild.core.uploads import UploadRefused, store_evidence

    answer = _answer(request, answer_id)
    if not may_edit(request.user, answer):
        raise PermissionDenied(_("Underlag läggs till av lokalpolisområdet innan svaret lämnas in."))
    form = EvidenceForm(request.POST, request.FILES, criteria=answer.round.criteria_set.criteria.all())
    if not form.is_valid():
        messages.error(request, _("Underlaget sparades inte: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("assessment:answer", answer_id=answer.pk)
    data = form.cleaned_data
    item = AnswerEvidence(
        answer=answer, criterion=data["criterion"], text=data["text"], link=data["link"],
        added_by=request.user.get_username(),
    )  # fmt: skip
    if data.get("file"):
        try:
            stored = store_evidence(data["file"])
        except UploadRefused as exc:
            log_request(
                request,
                AccessLogEntry.Action.DENIED,
                obj=answer,
                object_repr=f"evidence refused: {exc}"[:300],
            )
            messages.error(request, _("Filen togs inte emot: %(error)s") % {"error": exc})
            return redirect("assessment:answer", answer_id=answer.pk)
        item.file_key, item.file_name, item.content_type = (
            stored.key,
            stored.original_name,
            stored.content_type,
        )
    item.save()
    log_request(request, AccessLogEntry.Action.CHANGE, obj=item, object_repr=f"evidence for {answer.name}")
    return redirect("assessment:answer", answer_id=answer.pk)


def evidence_file(request, item_id: int):
    """An evidence file, only as a download."""
    from problembild.core.uploads import download_response

    item = AnswerEvidence.objects.select_related("answer").filter(pk=item_id).exclude(file_key="").first()
    if item is None:
        raise Http404(_("Ingen sådan fil."))
    _answer(request, item.answer_id)
    log_request(
        request, AccessLogEntry.Action.EXPORT, obj=item, object_repr=f"evidence file {item.file_name}"
    )
    return download_response(item.file_key, item.file_name, item.content_type)


@require_POST
def decide(request, answer_id: int):
    """Noa decides the answer's category, with a reason where it differs from proposal or criteria."""
    if not is_noa(request.user):
        raise PermissionDenied(_("Kategorin beslutas av Noa."))
    answer = _answer(request, answer_id)
    form = DecisionForm(request.POST, categories=category_choices(answer.round.criteria_set))
    if not form.is_valid():
        messages.error(request, _("Beslutet sparades inte: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("assessment:answer", answer_id=answer.pk)
    try:
        decision = rounds.decide(
            answer, form.cleaned_data["category"], form.cleaned_data["reason"], request.user
        )
    except rounds.RoundError as exc:
        messages.error(request, _("Beslutet sparades inte: %(error)s") % {"error": exc})
        return redirect("assessment:answer", answer_id=answer.pk)
    log_request(request, AccessLogEntry.Action.CHANGE, obj=decision, object_repr=f"decision {decision}")
    messages.success(request, _("Beslutet sparades."))
    return redirect("assessment:round", round_id=answer.round_id)


@require_POST
def publish(request, round_id: int):
    """Noa publishes the decided round as the new list and is shown its diff against the previous one."""
    if not is_noa(request.user):
        raise PermissionDenied(_("Listan publiceras av Noa."))
    rnd = get_round(round_id)
    previous = AssessmentRound.objects.filter(year__lt=rnd.year).order_by("-year").first()
    try:
        with transaction.atomic():
            register = rounds.publish(rnd, request.user)
    except rounds.RoundError as exc:
        messages.error(request, _("Listan publicerades inte: %(error)s") % {"error": exc})
        return redirect("assessment:round", round_id=rnd.pk)
    log_request(request, AccessLogEntry.Action.CHANGE, obj=rnd, object_repr=f"published list {register.year}")
    messages.success(request, _("Listan %(year)s är publicerad.") % {"year": register.year})
    query = f"?from_year={previous.year}&to_year={register.year}" if previous else ""
    return redirect(reverse("assessment:diff") + query)
