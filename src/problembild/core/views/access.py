"""The access log search and the periodic access review (administrators and auditors)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..access import log_request
from ..filtersets import AccessLogFilterSet
from ..models import AccessLogEntry, AccessReview, Profile
from ..roles import AUDIT_ROLES, ROLES, has_role


def _require_audit(request) -> None:
    """Only auditors and administrators (the 403 handler writes the refusal to the access log)."""
    if not has_role(request.user, AUDIT_ROLES):
        raise PermissionDenied(_("Endast administratörer och internrevisorer."))


def access_log(request):
    """Search the append-only access log by user, action, object and time."""
    _require_audit(request)
    filters = AccessLogFilterSet(request.GET, AccessLogEntry.objects.all(), request=request)
    q = filters.value("q") or ""
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="core.accesslogentry", object_repr="search: " + q
    )
    page = Paginator(filters.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/access_log.html",
        {"page": page, "filter": filters, "query": query.urlencode()},
    )


@require_http_methods(["GET", "POST"])
def access_review(request):
    """Every user's rights, for the periodic review the Criminal Data Act expects."""
    _require_audit(request)
    users = (
        get_user_model()
        .objects.order_by("username")
        .prefetch_related("groups")
        .select_related("profile__org_unit")
    )
    if request.method == "POST":
        review = AccessReview.objects.create(
            reviewer=request.user, users_reviewed=users.count(), note=request.POST.get("note", "")[:5000]
        )
        log_request(
            request,
            AccessLogEntry.Action.REVIEW,
            obj=review,
            object_repr=f"review of {review.users_reviewed} users",
        )
        messages.success(request, _("Granskningen är registrerad."))
        return redirect("core:access_review")
    rows = []
    for user in users:
        try:
            unit = user.profile.org_unit
        except Profile.DoesNotExist:
            unit = None
        rows.append(
            {
                "user": user,
                "roles": [ROLES.get(g.name, g.name) for g in user.groups.all()],
                "unit": unit,
                "warnings": _warnings(user, unit),
            }
        )
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="core.accessreview", object_repr="access review"
    )
    return render(
        request,
        "core/access_review.html",
        {"rows": rows, "reviews": AccessReview.objects.select_related("reviewer")[:10]},
    )


def _warnings(user, unit) -> list[str]:
    out = []
    if unit is None and not user.is_superuser:
        out.append(_("Saknar organisationsenhet (ser inga områden)."))
    if not user.groups.exists() and not user.is_superuser:
        out.append(_("Saknar roll."))
    if user.is_active and user.last_login is None:
        out.append(_("Har aldrig loggat in."))
    return out
