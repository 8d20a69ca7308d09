"""The import page: upload a file, see a validation report without committing, then import.

Only administrators (role ``administrator``, or staff) may import. The preview runs the
ordinary importer inside a transaction that is always rolled back (the importers have no
dry-run flag), so it sees exactly what a commit would do and writes nothing, not even an
import record. The uploaded file is kept under ``DATA_DIR/uploads/<token>/`` and the token
in the session between preview and commit. The commit runs the same importer for real, so
it is recorded in ``ImportRecord`` and is idempotent (the same file twice adds nothing),
and it is written to the access log (action ``import``).

The kinds of file come from the apps (:func:`problembild.core.imports.register_import_kind`);
this page knows none of them by name.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ..access import log_request
from ..exports import export_table
from ..imports import IMPORT_KINDS, ImportFailed, ImportResult, import_kinds
from ..models import AccessLogEntry, ImportRecord
from ..roles import ADMINISTRATOR, has_role
from ..tables import ImportErrorTable, ImportRecordTable

SESSION_KEY = "problembild_imports"
#: Rejected rows kept in the session and shown; the total is always reported.
MAX_ERRORS = 500
#: Pending previews kept per session.
MAX_PENDING = 5
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


class _Rollback(Exception):
    """Raised inside the preview's transaction so that nothing it wrote is kept."""


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Vad importeras"), choices=())
    file = forms.FileField(label=gettext_lazy("Fil"))
    year = forms.IntegerField(
        label=gettext_lazy("År (områdeslista: bedömningsår; folkmängd: år om filen saknar kolumnen year)"),
        required=False,
        min_value=1990,
        max_value=2100,
    )
    categories = forms.CharField(
        label=gettext_lazy("Kategorier (områdeslista, kommaseparerade, lägst först; valfritt)"),
        required=False,
        max_length=300,
    )
    source = forms.CharField(
        label=gettext_lazy("Källa (händelser: id är unika inom källan; folkmängd: källnotering)"),
        required=False,
        max_length=40,
    )
    mapping = forms.CharField(
        label=gettext_lazy("Kolumnmappning (deras_kolumn=fält, en per rad; valfritt)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.code, k.label) for k in import_kinds()]

    def clean(self):
        data = super().clean()
        kind, upload = IMPORT_KINDS.get(data.get("kind") or ""), data.get("file")
        if kind and upload and not upload.name.lower().endswith(kind.suffixes):
            self.add_error(
                "file",
                _("Fel filtyp för %(kind)s; tillåtna: %(endings)s")
                % {"kind": kind.label, "endings": ", ".join(kind.suffixes)},
            )
        pairs = [line.strip() for line in (data.get("mapping") or "").splitlines() if line.strip()]
        if kind and pairs:
            try:
                kind.mapping(pairs)
            except ValueError as exc:
                self.add_error("mapping", str(exc))
        data["map"] = pairs
        return data


def _require_admin(request) -> None:
    user = request.user
    if not (user.is_staff or has_role(user, {ADMINISTRATOR})):
        raise PermissionDenied(_("Bara administratörer får importera data."))


def _upload_dir() -> Path:
    return Path(settings.DATA_DIR) / "uploads"


def _options(kind: str, data: dict) -> dict:
    """The importer options the form gave for ``kind`` (JSON-serialisable, kept in the session)."""
    options = {}
    for name in IMPORT_KINDS[kind].options:
        value = data.get(name)
        if name == "categories":
            value = [c.strip() for c in (value or "").split(",") if c.strip()] or None
        options[name] = value or ([] if name == "map" else value)
    return options


def run_importer(
    kind: str, path: Path, options: dict, *, skip_invalid: bool, rejects=None, user=None
) -> ImportResult:
    """Run the registered importer of ``kind`` on ``path``."""
    if kind not in IMPORT_KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    return IMPORT_KINDS[kind].run(path, options, skip_invalid=skip_invalid, rejects=rejects, user=user)


def _error_dicts(errors) -> list[dict]:
    return [
        {"file": Path(e.file).name, "line": e.line, "field": e.field, "message": e.message}
        for e in errors[:MAX_ERRORS]
    ]


def dry_run(kind: str, path: Path, options: dict) -> dict:
    """Validate ``path`` with the real importer and roll everything back.

    Runs with ``skip_invalid`` so that the report counts the accepted rows as well as the
    rejected ones; file-level problems still stop the importer with ``ImportFailed``.
    """
    report = {"accepted": 0, "rejected": 0, "added": 0, "errors": [], "total_errors": 0, "failed": False}
    try:
        with transaction.atomic():
            try:
                result = run_importer(kind, path, options, skip_invalid=True)
            except ImportFailed as exc:
                report.update(failed=True, errors=_error_dicts(exc.errors), total_errors=exc.total)
            except (ValueError, KeyError, TypeError, OSError) as exc:
                report.update(
                    failed=True,
                    errors=[{"file": path.name, "line": None, "field": "file", "message": str(exc)}],
                    total_errors=1,
                )
            else:
                report.update(
                    accepted=result.accepted,
                    rejected=result.rejected,
                    added=result.added,
                    errors=_error_dicts(result.errors),
                    total_errors=len(result.errors),
                )
            raise _Rollback
    except _Rollback:
        pass
    return report


def _pending(request) -> dict:
    return request.session.get(SESSION_KEY, {})


def _remember(request, token: str, entry: dict) -> None:
    pending = dict(_pending(request))
    pending[token] = entry
    while len(pending) > MAX_PENDING:
        pending.pop(next(iter(pending)))
    request.session[SESSION_KEY] = pending


def _entry(request, token: str) -> dict:
    entry = _pending(request).get(token) if _TOKEN.match(token or "") else None
    if entry is None:
        raise Http404(_("Ingen sådan förhandsgranskning i din session; ladda upp filen igen."))
    return entry


def _records():
    return ImportRecord.objects.order_by("-started_at", "-pk")[:20]


def _page(request, form, **extra):
    report = extra.get("report")
    if report:
        kind = IMPORT_KINDS.get(report["kind"])
        extra["report_kind_label"] = kind.label if kind else report["kind"]
        outcome = extra.get("outcome") or {}
        extra["errors_table"] = ImportErrorTable(outcome.get("errors") or report["errors"])
    return render(
        request,
        "core/import.html",
        {
            "form": form,
            "records": ImportRecordTable(_records()),
            "kinds": [(k.code, k.label, ", ".join(k.suffixes)) for k in import_kinds()],
            **extra,
        },
    )


@require_http_methods(["GET", "POST"])
def import_page(request):
    """GET: the upload form and the last imports. POST: save the file and show the validation report."""
    _require_admin(request)
    if request.method == "GET":
        return _page(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form)
    kind = form.cleaned_data["kind"]
    upload = form.cleaned_data["file"]
    token = secrets.token_hex(16)
    folder = _upload_dir() / token
    folder.mkdir(parents=True, exist_ok=True)
    name = get_valid_filename(Path(upload.name).name) or "upload"
    path = folder / name
    with open(path, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    options = _options(kind, form.cleaned_data)
    report = dry_run(kind, path, options)
    entry = {"kind": kind, "path": str(path), "name": name, "options": options, **report}
    _remember(request, token, entry)
    return _page(request, ImportForm(initial={"kind": kind}), report=entry, token=token)


@require_POST
def import_commit(request):
    """Import a previewed file for real through the normal importer, and log it."""
    _require_admin(request)
    token = request.POST.get("token", "")
    entry = _entry(request, token)
    skip = request.POST.get("skip_invalid") == "1"
    path = Path(entry["path"])
    if not path.is_file():
        raise Http404(_("Den uppladdade filen finns inte längre; ladda upp den igen."))
    rejects = path.parent / "rejects.csv" if skip else None
    outcome: dict = {"skip_invalid": skip}
    record_id: int | str = ""
    try:
        result = run_importer(
            entry["kind"], path, entry["options"], skip_invalid=skip, rejects=rejects, user=request.user
        )
    except ImportFailed as exc:
        outcome.update(failed=True, errors=_error_dicts(exc.errors), total_errors=exc.total)
        summary = f"{entry['kind']} {entry['name']}: failed, nothing written ({exc.total} error(s))"
        record_id = ""
    except (ValueError, KeyError, TypeError, OSError) as exc:
        outcome.update(
            failed=True,
            errors=[{"file": path.name, "line": None, "field": "file", "message": str(exc)}],
            total_errors=1,
        )
        summary = f"{entry['kind']} {entry['name']}: failed, nothing written ({exc})"
        record_id = ""
    else:
        record = ImportRecord.objects.filter(pk=result.record_id).first()
        outcome.update(
            failed=False,
            accepted=result.accepted,
            rejected=result.rejected,
            added=result.added,
            record_id=result.record_id,
            status=record.get_status_display() if record else "",
        )
        summary = (
            f"{entry['kind']} {entry['name']}: {result.accepted} accepted, {result.rejected} rejected, "
            f"{result.added} added"
        )
        record_id = result.record_id or ""
    log_request(
        request,
        AccessLogEntry.Action.IMPORT,
        object_type="core.importrecord",
        object_id=record_id,
        object_repr=summary,
    )
    return _page(
        request, ImportForm(initial={"kind": entry["kind"]}), report=entry, token=token, outcome=outcome
    )


def import_errors_export(request, token: str, fmt: str):
    """The rejected rows of a preview as CSV or Excel (logged with reason and recipient)."""
    _require_admin(request)
    entry = _entry(request, token)
    return export_table(
        request,
        ImportErrorTable(entry["errors"]),
        name=f"problembild-import-avvisade-{entry['name']}",
        fmt=fmt,
        title=_("Avvisade rader"),
        note=_("Valideringsrapport för %(name)s (%(kind)s).")
        % {"name": entry["name"], "kind": entry["kind"]},
        object_type="core.importrecord",
    )


def import_records_export(request, fmt: str):
    """The list of the last imports as CSV or Excel."""
    _require_admin(request)
    return export_table(
        request,
        ImportRecordTable(_records()),
        name="problembild-importer",
        fmt=fmt,
        title=_("Senaste importer"),
        object_type="core.importrecord",
    )
