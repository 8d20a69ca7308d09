"""The import page: upload a file, see a validation report without committing, then import.

Administrators (:data:`~problembild.core.roles.IMPORT_ROLES`, or Django staff) may import
every kind; a kind may name further roles that import it alone (HR its staff files). The preview runs the ordinary importer inside
:func:`~problembild.core.imports.validate_only`: it validates and counts exactly as an
import would, and writes nothing, not even an import record; it opens no transaction, so
it never holds the database's write lock however large the file (on SQLite a page view
writes the access log and would wait for that lock). The report keeps the first
:data:`~problembild.core.errors.MAX_ERRORS` errors and counts all of them.

The uploaded file is kept under ``DATA_DIR/uploads/<token>/`` and the token in the session
between preview and commit; files over :data:`settings.MAX_UPLOAD_MB` are refused. The
commit runs the same importer for real, so it is recorded in ``ImportRecord`` and is
idempotent (the same file twice adds nothing), and it is written to the access log
(action ``import``). A file of at least :data:`BACKGROUND_FROM_BYTES` is imported in a
background thread (:class:`~problembild.core.imports.ImportJob`): the page shows its
progress and polls (htmx, every two seconds) until it is done. The upload is deleted once
imported or when the preview is cancelled; folders left behind are deleted after a day
(:func:`~problembild.core.imports.purge_uploads`, run whenever the page is used).

The kinds of file come from the apps (:func:`problembild.core.imports.register_import_kind`);
this page knows none of them by name.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..access import log_access, log_request
from ..exports import export_table
from ..imports import (
    IMPORT_KINDS,
    MAX_ERRORS,
    ImportFailed,
    ImportJob,
    ImportResult,
    import_job,
    import_kinds,
    purge_uploads,
    upload_root,
    validate_only,
)
from ..models import AccessLogEntry, ImportRecord
from ..roles import IMPORT_ROLES, has_role
from ..tables import ImportErrorTable, ImportRecordTable

SESSION_KEY = "problembild_imports"
#: Pending previews kept per session.
MAX_PENDING = 5
#: Files of this size or more are imported in the background, with progress on the page.
BACKGROUND_FROM_BYTES = 5 * 1024 * 1024
#: Seconds without a heartbeat after which a background import counts as dead (its process
#: was killed or restarted): its record is marked failed. The heartbeat comes every 5 s.
STALE_AFTER = 120
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


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

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.code, k.label) for k in import_kinds(user)]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                _(
                    "Filen är för stor (%(size)s MB); den största fil som kan importeras här är "
                    "%(limit)s MB. Importera större filer med kommandoraden (problembild import)."
                )
                % {"size": f"{upload.size / (1024 * 1024):.1f}", "limit": limit}
            )
        return upload

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


def _require_admin(request, kind: str | None = None) -> None:
    """Administrators import everything; a kind's own roles (e.g. HR) only that kind."""
    kinds = import_kinds(request.user)
    if not kinds or (kind is not None and kind not in {k.code for k in kinds}):
        raise PermissionDenied(_("Din roll får inte importera den här sortens data."))


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


def _file_error(path: Path, exc: Exception) -> dict:
    return {
        "failed": True,
        "errors": [{"file": path.name, "line": None, "field": "file", "message": str(exc)}],
        "total_errors": 1,
    }


def dry_run(kind: str, path: Path, options: dict) -> dict:
    """Validate ``path`` with the real importer, writing nothing (see the module docstring).

    Runs with ``skip_invalid`` so that the report counts the accepted rows as well as the
    rejected ones; file-level problems still stop the importer with ``ImportFailed``.
    ``added`` is None for kinds whose importer counts additions only by writing them.
    """
    report = {"accepted": 0, "rejected": 0, "added": 0, "errors": [], "total_errors": 0, "failed": False}
    try:
        with validate_only():
            result = run_importer(kind, path, options, skip_invalid=True)
    except ImportFailed as exc:
        report.update(failed=True, errors=_error_dicts(exc.errors), total_errors=exc.total)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        report.update(_file_error(path, exc))
    else:
        report.update(
            accepted=result.accepted,
            rejected=result.rejected,
            added=result.added,
            errors=_error_dicts(result.errors),
            total_errors=result.total_errors,
        )
    return report


def _commit(entry: dict, *, skip: bool, rejects, user) -> tuple[dict, str, int | str]:
    """Import the previewed file for real: (outcome, access-log summary, record id)."""
    path = Path(entry["path"])
    outcome: dict = {"skip_invalid": skip, "failed": False}
    try:
        result = run_importer(
            entry["kind"], path, entry["options"], skip_invalid=skip, rejects=rejects, user=user
        )
    except ImportFailed as exc:
        outcome.update(failed=True, errors=_error_dicts(exc.errors), total_errors=exc.total)
        return outcome, f"{entry['kind']} {entry['name']}: failed, nothing written ({exc.total} error(s))", ""
    except (ValueError, KeyError, TypeError, OSError) as exc:
        outcome.update(_file_error(path, exc))
        return outcome, f"{entry['kind']} {entry['name']}: failed, nothing written ({exc})", ""
    outcome.update(
        accepted=result.accepted,
        rejected=result.rejected,
        added=result.added,
        record_id=result.record_id,
    )
    summary = (
        f"{entry['kind']} {entry['name']}: {result.accepted} accepted, {result.rejected} rejected, "
        f"{result.added} added"
    )
    return outcome, summary, result.record_id or ""


def _discard_upload(path: Path) -> None:
    """Delete an imported upload; its folder too unless it still holds a rejects or job file."""
    path.unlink(missing_ok=True)
    # Not empty (rejects.csv, job.json: deleted with the folder after a day), or gone.
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def start_background(task: Callable[[], None]) -> threading.Thread:
    """Run ``task`` in a thread of its own, which closes its database connections at the end.

    A thread of the web process (not a process of its own), so it needs no other set-up;
    if the web process ends first, the import's transaction is rolled back and the page
    reports the import as failed once its heartbeat is missed (:data:`STALE_AFTER`).
    """

    def run() -> None:
        try:
            task()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="problembild-import", daemon=True)
    thread.start()
    return thread


def _background(job: ImportJob, entry: dict, *, skip: bool, rejects, user, log_path: str) -> None:
    """The work of a background import: import, log, report the outcome, delete the upload."""
    with import_job(job):
        try:
            outcome, summary, record_id = _commit(entry, skip=skip, rejects=rejects, user=user)
        except Exception as exc:  # any failure must end the job, or the page would wait for it
            outcome = _file_error(Path(entry["path"]), exc)
            summary, record_id = (
                f"{entry['kind']} {entry['name']}: failed, nothing written ({exc})",
                job.record_id,
            )
            ImportRecord.objects.filter(pk=job.record_id, status=ImportRecord.Status.RUNNING).update(
                status=ImportRecord.Status.FAILED,
                finished_at=timezone.now(),
                message=f"{type(exc).__name__}: {exc}",
            )
    log_access(
        user,
        AccessLogEntry.Action.IMPORT,
        object_type="core.importrecord",
        object_id=record_id or job.record_id,
        object_repr=summary,
        path=log_path,
    )
    job.finish(outcome)
    _discard_upload(Path(entry["path"]))


def _job_outcome(entry: dict, token: str) -> tuple[dict | None, dict | None]:
    """(progress of the running import, outcome of the finished one) of a background import."""
    record_id = entry["job"]
    state = ImportJob.read(upload_root() / token)
    if state and state.get("state") == "done":
        return None, dict(state.get("outcome") or {"failed": True, "errors": [], "total_errors": 0})
    if state and time.time() - float(state.get("updated") or 0) <= STALE_AFTER:
        done, total = int(state.get("done") or 0), int(state.get("total") or 0)
        percent = min(100, round(100 * done / total)) if total else None
        return {"record_id": record_id, "done": done, "total": total, "percent": percent}, None
    record = ImportRecord.objects.filter(pk=record_id).first()
    if record is not None and record.status != ImportRecord.Status.RUNNING:
        # Finished, and its folder has expired since: the record tells the outcome.
        return None, {
            "failed": record.status == ImportRecord.Status.FAILED,
            "accepted": record.accepted,
            "rejected": record.rejected,
            "added": record.added,
            "record_id": record.pk,
            "errors": [],
            "total_errors": 0,
        }
    # No heartbeat: the process running the import was killed or restarted. Its transaction
    # was rolled back with it, so nothing was written; the record still says "running".
    ImportRecord.objects.filter(pk=record_id, status=ImportRecord.Status.RUNNING).update(
        status=ImportRecord.Status.FAILED,
        finished_at=timezone.now(),
        message="abandoned: the process running the import stopped (killed or restarted); nothing was written",
    )
    outcome = {"failed": True, "abandoned": True, "errors": [], "total_errors": 0}
    if (upload_root() / token).is_dir():
        ImportJob(upload_root() / token, record_id).finish(outcome)
    return None, outcome


def _pending(request) -> dict:
    return request.session.get(SESSION_KEY, {})


def _remember(request, token: str, entry: dict) -> None:
    pending = dict(_pending(request))
    pending[token] = entry
    while len(pending) > MAX_PENDING:
        pending.pop(next(iter(pending)))
    request.session[SESSION_KEY] = pending


def _forget(request, token: str) -> None:
    pending = dict(_pending(request))
    pending.pop(token, None)
    request.session[SESSION_KEY] = pending


def _entry(request, token: str) -> dict:
    entry = _pending(request).get(token) if _TOKEN.match(token or "") else None
    if entry is None:
        raise Http404(_("Ingen sådan förhandsgranskning i din session; ladda upp filen igen."))
    return entry


def _records(user=None):
    """The last imports, of the kinds ``user`` may import (all for administrators)."""
    records = ImportRecord.objects.order_by("-started_at", "-pk")
    if user is not None and not (user.is_staff or has_role(user, IMPORT_ROLES)):
        records = records.filter(kind__in=[k.code for k in import_kinds(user)])
    return records[:20]


def _page(request, form, **extra):
    report = extra.get("report")
    if report:
        kind = IMPORT_KINDS.get(report["kind"])
        extra["report_kind_label"] = kind.label if kind else report["kind"]
        outcome = dict(extra.get("outcome") or {})
        if outcome.get("record_id"):
            record = ImportRecord.objects.filter(pk=outcome["record_id"]).first()
            outcome["status"] = record.get_status_display() if record else ""
        if extra.get("outcome"):
            extra["outcome"] = outcome
        extra["errors_table"] = ImportErrorTable(outcome.get("errors") or report["errors"])
    return render(
        request,
        "core/import.html",
        {
            "form": form,
            "records": ImportRecordTable(_records(request.user)),
            "kinds": [(k.code, k.label, ", ".join(k.suffixes)) for k in import_kinds(request.user)],
            "max_upload_mb": settings.MAX_UPLOAD_MB,
            **extra,
        },
    )


def _report_page(request, token: str, entry: dict):
    """The page of a preview: its report, and the import's progress or outcome once started."""
    form = ImportForm(user=request.user, initial={"kind": entry["kind"]})
    if entry.get("job"):
        job, outcome = _job_outcome(entry, token)
        return _page(request, form, report=entry, token=token, job=job, outcome=outcome)
    return _page(request, form, report=entry, token=token, outcome=entry.get("outcome"))


@require_http_methods(["GET", "POST"])
def import_page(request):
    """GET: the upload form and the last imports. POST: save the file and show the validation report."""
    _require_admin(request)
    purge_uploads()
    if request.method == "GET":
        return _page(request, ImportForm(user=request.user))
    form = ImportForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        return _page(request, form)
    kind = form.cleaned_data["kind"]
    upload = form.cleaned_data["file"]
    token = secrets.token_hex(16)
    folder = upload_root() / token
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
    return _page(request, ImportForm(user=request.user, initial={"kind": kind}), report=entry, token=token)


@require_POST
def import_commit(request):
    """Import a previewed file for real through the normal importer, and log it.

    A file of :data:`BACKGROUND_FROM_BYTES` or more is imported in the background and the
    page polls its progress. Committing a preview a second time (a double click) shows the
    first import's progress or outcome again.
    """
    _require_admin(request)
    purge_uploads()
    token = request.POST.get("token", "")
    entry = _entry(request, token)
    _require_admin(request, entry["kind"])
    if entry.get("job") or entry.get("outcome"):
        return _report_page(request, token, entry)
    skip = request.POST.get("skip_invalid") == "1"
    path = Path(entry["path"])
    if not path.is_file():
        raise Http404(_("Den uppladdade filen finns inte längre; ladda upp den igen."))
    rejects = path.parent / "rejects.csv" if skip else None
    if path.stat().st_size >= BACKGROUND_FROM_BYTES:
        user = request.user
        record = ImportRecord.objects.create(
            kind=entry["kind"],
            file_name=str(path),
            user=user,
            username=user.get_username(),
            status=ImportRecord.Status.RUNNING,
            options={**entry["options"], "skip_invalid": skip},
        )
        job = ImportJob(path.parent, record.pk).start()
        entry = {**entry, "job": record.pk}
        _remember(request, token, entry)
        # Saved now, before the import takes the database's write lock (on SQLite the
        # session's write would otherwise wait for the whole import).
        request.session.save()
        request.session.modified = False
        log_path = request.get_full_path()
        start_background(
            lambda: _background(job, entry, skip=skip, rejects=rejects, user=user, log_path=log_path)
        )
        return _report_page(request, token, entry)
    outcome, summary, record_id = _commit(entry, skip=skip, rejects=rejects, user=request.user)
    log_request(
        request,
        AccessLogEntry.Action.IMPORT,
        object_type="core.importrecord",
        object_id=record_id,
        object_repr=summary,
    )
    _discard_upload(path)
    entry = {**entry, "outcome": outcome}
    _remember(request, token, entry)
    return _report_page(request, token, entry)


@require_GET
def import_status(request, token: str):
    """The page of a preview whose import runs in the background: polled until it is done."""
    _require_admin(request)
    entry = _entry(request, token)
    return _report_page(request, token, entry)


@require_POST
def import_cancel(request):
    """Drop a preview: delete its upload and forget its token."""
    _require_admin(request)
    token = request.POST.get("token", "")
    entry = _entry(request, token)
    if entry.get("job"):
        job, _outcome = _job_outcome(entry, token)
        if job is not None:  # a running import keeps its file until it is done
            return _report_page(request, token, entry)
    shutil.rmtree(upload_root() / token, ignore_errors=True)
    _forget(request, token)
    purge_uploads()
    return _page(
        request, ImportForm(user=request.user, initial={"kind": entry["kind"]}), cancelled=entry["name"]
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
        ImportRecordTable(_records(request.user)),
        name="problembild-importer",
        fmt=fmt,
        title=_("Senaste importer"),
        object_type="core.importrecord",
    )
