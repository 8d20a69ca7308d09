"""The ``problembild`` command: one entry point for setup, imports, analytics and the server.

Each command is thin: it parses arguments, calls a service function that the tests call
too, and draws progress bars for long work.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from contextlib import contextmanager, suppress
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(help="Problembild – lokal problembild för utsatta områden.", no_args_is_help=True)
import_app = typer.Typer(help="Importera data (allt eller inget; upprepad import lägger inte till något).")
taxonomy_app = typer.Typer(help="Taxonomin: händelsetyper -> indikatorgrupper.")
report_app = typer.Typer(help="Rapporter för schemalagda körningar.")
app.add_typer(import_app, name="import")
audit_app = typer.Typer(help="Uppföljning av revisionens rekommendationer: påminnelser och status.")
assessment_app = typer.Typer(help="Bedömningsomgången: listans förändring mellan två listår.")
app.add_typer(assessment_app, name="assessment")
app.add_typer(audit_app, name="audit")
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(report_app, name="report")
# Never wrap printed text: when the output is not a terminal (a log file, a pipe) rich would
# break lines at 80 columns, and a log line must stay one line. Progress bars still fit the
# terminal's width.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

SHIPPED_EVENTS = Path(__file__).resolve().parent / "incidents" / "data" / "polisen_events_2022_2025.json.gz"


def setup_django() -> None:
    """Configure Django (dev settings unless DJANGO_SETTINGS_MODULE says otherwise)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "problembild.settings.dev")
    import django

    django.setup()


@contextmanager
def progress_bar(label: str):
    """Yield a ``progress(done, total)`` callback drawing a rich progress bar."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not sys.stderr.isatty() and os.environ.get("PROBLEMBILD_PROGRESS") != "1",
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


def _run_import(fn, *args, command: str, print_summary: bool = True, **kwargs) -> dict:
    """Run an importer, print its summary as JSON (or its errors), log it, and return the summary.

    Like an import on the import page, a command-line import is written to the access log
    (action ``import``): who (the operating-system user), which file and how many rows.
    ``print_summary`` False: the caller prints it (:func:`_finish_import`).
    """
    from problembild.core.imports import ImportFailed

    what = f"{command} {args[0]}" if args else command
    try:
        result = fn(*args, **kwargs)
    except ImportFailed as exc:
        _log_import(command, args, f"{what}: failed, nothing written ({exc.total} error(s))")
        err_console.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from None
    except ValueError as exc:
        _log_import(command, args, f"{what}: failed, nothing written ({exc})")
        err_console.print(f"[red]Error: {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from None
    _log_import(
        command,
        args,
        f"{what}: {result.accepted} accepted, {result.rejected} rejected, {result.added} added",
        record_id=result.record_id,
    )
    summary = {
        "kind": result.kind,
        "file": result.file,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "added": result.added,
        **result.details,
    }
    if print_summary:
        console.print_json(json.dumps(summary, ensure_ascii=False, default=str))
    return summary


def _finish_import(summary: dict, then_refresh: bool) -> None:
    """Print an import's summary, after refreshing the pictures when asked (``--refresh``).

    The refresh runs in the same process (the morning routine pays for one start of Python
    and Django, not two), once the import's progress bar is closed; its summary is the
    ``refresh`` member of the printed one.
    """
    if then_refresh:
        try:
            summary["refresh"] = _run_refresh()
        except Exception as exc:
            # The import is committed and stays; only the pictures are behind.
            console.print_json(json.dumps(summary, ensure_ascii=False, default=str))
            err_console.print(
                f"[red]Error: the import was written, the refresh failed: {escape(repr(exc))}. "
                "Run `problembild refresh`.[/red]",
                highlight=False,
            )
            raise typer.Exit(1) from None
    console.print_json(json.dumps(summary, ensure_ascii=False, default=str))


def _run_refresh(
    options=None, *, full: bool = False, areas: list[int] | None = None, bar: bool = True
) -> dict:
    """Run the refresh (with a progress bar unless ``bar`` is False) and return its summary."""
    from problembild.picture.refresh.run import refresh as run

    if not bar:
        return run(options=options, full=full, areas=areas).as_dict()
    with progress_bar("Computing problem pictures") as progress:
        return run(
            options=options, full=full, areas=areas, progress=lambda step, done, total: progress(done, total)
        ).as_dict()


def _log_import(command: str, args: tuple, summary: str, record_id: int | None = None) -> None:
    """Append the import to the access log as the operating-system user."""
    from types import SimpleNamespace

    from problembild.core.access import log_access
    from problembild.core.imports import os_user
    from problembild.core.models import AccessLogEntry

    log_access(
        SimpleNamespace(username=os_user() or "cli", is_authenticated=False),
        AccessLogEntry.Action.IMPORT,
        object_type="core.importrecord",
        object_id=record_id or "",
        object_repr=summary,
        path=f"cli: problembild {command} {' '.join(str(a) for a in args)}".strip(),
    )


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    from problembild.incidents.importers import parse_mapping

    try:
        return parse_mapping(pairs or [])
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@app.command()
def init() -> None:
    """Migrate the database named by DATABASE_URL and load the shipped area register."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    console.print(f"Database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
    call_command("migrate", interactive=False, verbosity=0)
    from problembild.areas.register import load_register
    from problembild.core.bootstrap import ensure_roles

    ensure_roles()
    summary = load_register()
    console.print(
        f"Register: {summary.areas} areas, {summary.classifications} classifications in {summary.rounds} rounds, "
        f"{summary.municipalities} municipalities, {summary.org_units} org units; "
        f"{summary.changed} row(s) changed."
    )
    from problembild.followup.seed import load_seed

    seeded = load_seed()
    console.print(
        f"Method support and strategy: {seeded['methods']} method(s), {seeded['strategy']} goal/indicator/target row(s) changed."
    )
    from problembild.competence.catalogue import load_catalogue

    console.print(f"Competence catalogue: {load_catalogue()} competence(s) added.")


@import_app.command("areas")
def import_areas_cmd(
    file: Path,
    year: int | None = typer.Option(None, help="Assessment (list) year; or a 'year' property in the file."),
    categories: str | None = typer.Option(
        None, help="Comma-separated categories of this list, least severe first."
    ),
    map_: list[str] | None = typer.Option(None, "--map", help="their_property=field (repeatable)."),
    skip_invalid: Path | None = typer.Option(
        None, "--skip-invalid", help="Import valid rows; write rejects here."
    ),
) -> None:
    """Import a list of areas (GeoJSON, Shapefile, GeoPackage; WGS84 or SWEREF99 TM)."""
    setup_django()
    from problembild.areas.importers import import_areas

    cats = [c.strip() for c in categories.split(",")] if categories else None
    _run_import(
        import_areas,
        file,
        command="import areas",
        year=year,
        categories=cats,
        mapping=_mapping(map_),
        skip_invalid=skip_invalid is not None,
        rejects=skip_invalid,
    )


@import_app.command("incidents")
def import_incidents_cmd(
    file: Path,
    source: str = typer.Option("import", help="Name of the source; ids are unique within a source."),
    map_: list[str] | None = typer.Option(
        None, "--map", help="their_column=field (repeatable); their_column= ignores."
    ),
    skip_invalid: Path | None = typer.Option(
        None, "--skip-invalid", help="Import valid rows; write rejects here."
    ),
    parallel: bool | None = typer.Option(
        None,
        "--parallel/--no-parallel",
        help="Prepare chunks in a worker process (default: for files over a million rows).",
    ),
    then_refresh: bool = typer.Option(
        False,
        "--refresh",
        help="Then refresh the problem pictures in the same run (the summary's refresh member), as "
        "`problembild refresh` would: the morning routine in one command.",
    ),
) -> None:
    """Import incidents from CSV, Parquet or GeoJSON and assign them to areas."""
    setup_django()
    from problembild.incidents.importers import import_incidents

    with progress_bar("Importing incidents") as progress:
        summary = _run_import(
            import_incidents,
            file,
            command="import incidents",
            source=source,
            mapping=_mapping(map_),
            skip_invalid=skip_invalid is not None,
            rejects=skip_invalid,
            progress=progress,
            parallel=parallel,
            print_summary=False,
        )
    _finish_import(summary, then_refresh)


@import_app.command("polisen-events")
def import_polisen_cmd(
    file: Path = typer.Argument(
        SHIPPED_EVENTS, help="Feed file (.json or .json.gz); default: the shipped 2022–2025 feed."
    ),
    skip_invalid: Path | None = typer.Option(
        None, "--skip-invalid", help="Import valid rows; write rejects here."
    ),
    then_refresh: bool = typer.Option(
        False, "--refresh", help="Then refresh the problem pictures in the same run (as for incidents)."
    ),
) -> None:
    """Import the police's public events feed (polisen.se händelser)."""
    setup_django()
    from problembild.incidents.polisen import import_polisen_events

    with progress_bar("Importing police events") as progress:
        summary = _run_import(
            import_polisen_events,
            file,
            command="import polisen-events",
            skip_invalid=skip_invalid is not None,
            rejects=skip_invalid,
            progress=progress,
            print_summary=False,
        )
    _finish_import(summary, then_refresh)


@import_app.command("population")
def import_population_cmd(
    file: Path,
    boundaries: Path | None = typer.Option(None, help="DeSO boundary file: FILE then holds DeSO counts."),
    year: int | None = typer.Option(None, help="Year, when the file has no 'year' column."),
    source: str = typer.Option("", help="Source note stored with the figures."),
    skip_invalid: Path | None = typer.Option(
        None, "--skip-invalid", help="Import valid rows; write rejects here."
    ),
) -> None:
    """Import residents per area and year (or DeSO counts with DeSO boundaries)."""
    setup_django()
    from problembild.areas.importers import import_population

    _run_import(
        import_population,
        file,
        command="import population",
        boundaries=boundaries,
        year=year,
        source=source,
        skip_invalid=skip_invalid is not None,
        rejects=skip_invalid,
    )


#: The small CSV imports: command name -> (importer's dotted path, extra keyword arguments, help).
CSV_IMPORTS = {
    "staffing": (
        "problembild.resources.importers.import_staffing",
        {},
        "Import area officers per area and month (area, month, officers[, fte, hours_outside]"
        "[, day, hour, planned, actual]).",
    ),
    "presence": (
        "problembild.resources.importers.import_staffing",
        {"presence_only": True},
        "Import presence hours per hour of week (area, month, day, hour, planned, actual).",
    ),
    "capacity": (
        "problembild.resources.importers.import_capacity",
        {},
        "Import what each unit can place per month (unit, month, officers[, hours, increase]).",
    ),
    "activities": (
        "problembild.followup.importers.import_activities",
        {},
        "Import activities (area, date, method, hours[, officers, partners, priority, promise, note]).",
    ),
    "survey": (
        "problembild.followup.importers.import_survey",
        {},
        "Import safety-survey results (area, year, measure, value).",
    ),
    "socioeconomic": (
        "problembild.assessment.importers.import_socio",
        {},
        "Import socioeconomic figures per area and year (area, year, measure, value[, source]).",
    ),
    "staff": (
        "problembild.competence.importers.import_staff",
        {},
        "Import staff under pseudonymous ids (id, role, unit[, area, login, active]).",
    ),
    "competence-assessments": (
        "problembild.competence.importers.import_assessments",
        {},
        "Import assessed competence levels (staff, competence, level, date[, assessor, note]).",
    ),
    "courses": (
        "problembild.competence.importers.import_courses",
        {},
        "Import courses, one row per competence taught (code, name, competence, level, days, seats, cost"
        "[, name_en, valid_months, dates]).",
    ),
    "course-completions": (
        "problembild.competence.importers.import_completions",
        {},
        "Import completed courses (staff, course, date[, expires]).",
    ),
}


def _csv_import(kind: str, file: Path, source: str, skip_invalid: Path | None) -> None:
    """Run one of :data:`CSV_IMPORTS` as every import runs (summary, errors, access log)."""
    setup_django()
    from django.utils.module_loading import import_string

    path, extra, _help = CSV_IMPORTS[kind]
    _run_import(
        import_string(path),
        file,
        command=f"import {kind}",
        source=source,
        skip_invalid=skip_invalid is not None,
        rejects=skip_invalid,
        **extra,
    )


def _csv_import_command(kind: str) -> None:
    """Register ``problembild import KIND FILE [--source S] [--skip-invalid REJECTS]``."""

    def command(
        file: Path,
        source: str = typer.Option("", help="Source note stored with the rows."),
        skip_invalid: Path | None = typer.Option(
            None, "--skip-invalid", help="Import valid rows; write rejects here."
        ),
    ) -> None:
        _csv_import(kind, file, source, skip_invalid)

    command.__doc__ = CSV_IMPORTS[kind][2]
    import_app.command(kind)(command)


for _kind in CSV_IMPORTS:
    _csv_import_command(_kind)


@report_app.command("quarterly")
def report_quarterly(
    unit: str = typer.Option(..., "--unit", help="Org unit code."),
    quarter: str = typer.Option(..., "--quarter", help="Quarter, e.g. 2025Q4."),
    fmt: str = typer.Option("html", "--format", help="html or pdf."),
    output: Path = typer.Option(..., "--output", help="File to write."),
) -> None:
    """Write a unit's quarterly follow-up report (HTML or PDF) for scheduled runs."""
    setup_django()
    from problembild.followup.rendering import render_report

    if fmt not in ("html", "pdf"):
        err_console.print(
            f"[red]Error: --format must be html or pdf, not {escape(fmt)!r}[/red]", highlight=False
        )
        raise typer.Exit(2)
    try:
        content, org = render_report(unit, quarter, fmt)
    except (LookupError, ValueError) as exc:
        err_console.print(f"[red]Error: {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from None
    output.write_bytes(content)
    from types import SimpleNamespace

    from problembild.core.access import log_access
    from problembild.core.imports import os_user
    from problembild.core.models import AccessLogEntry

    log_access(
        SimpleNamespace(username=os_user() or "cli", is_authenticated=False),
        AccessLogEntry.Action.EXPORT,
        obj=org,
        object_repr=f"quarterly report {org.name} {quarter} ({fmt})",
        reason="scheduled report (CLI)",
        recipient=str(output),
        path=f"cli: problembild report quarterly --unit {unit} --quarter {quarter} --format {fmt}",
    )
    console.print(f"Wrote {output} ({len(content):,} bytes).")


@import_app.command("clean-uploads")
def clean_uploads_cmd(
    hours: float = typer.Option(24.0, help="Delete upload folders untouched for this many hours."),
) -> None:
    """Delete old uploads of the import page (the page itself deletes those older than a day)."""
    setup_django()
    from problembild.core.imports import purge_uploads, upload_root

    removed = purge_uploads(max_age=hours * 3600)
    console.print(f"{removed} upload folder(s) older than {hours:g} h deleted from {upload_root()}.")


@app.command("demo-data")
def demo_data(
    incidents: int = typer.Option(200_000, help="Number of synthetic incidents."),
    years: int = typer.Option(5, help="Years of history, ending at the start of this year."),
    seed: int = typer.Option(1, help="Random seed: the same seed gives the same data."),
) -> None:
    """Generate synthetic incidents and population for the real areas (labelled synthetic)."""
    setup_django()
    from problembild.incidents.demo import generate_demo_data

    with progress_bar("Generating synthetic incidents") as progress:
        _run_import(
            generate_demo_data,
            command="demo-data",
            incidents=incidents,
            years=years,
            seed=seed,
            progress=progress,
        )
    from datetime import date

    from problembild.resources.demo import generate_example_resources

    made = generate_example_resources(seed=seed, end=date(date.today().year, 1, 1))
    console.print(
        f"Example staffing: {made['staffing']} area-months, capacity: {made['capacity']} unit-months "
        "(marked example)."
    )
    from problembild.followup.demo import generate_example_followup

    follow = generate_example_followup(seed=seed, today=date.today())
    console.print(
        f"Example follow-up: {follow['documents']} problem picture documents, {follow['activities']} activities "
        "(marked example)."
    )
    from problembild.audit.demo import generate_example_audit

    audit = generate_example_audit(today=date.today())
    console.print(f"Example audit: {audit['reports']} report, {audit['measures']} measures (marked example).")
    from problembild.assessment.demo import generate_example_assessment

    made = generate_example_assessment(seed=seed, today=date.today())
    console.print(
        f"Example assessment: {made['criteria_sets']} criteria sets, {made['socio']} synthetic socioeconomic "
        f"figures, a 2025 round with {made['answers']} answers (marked example)."
    )
    from problembild.competence.demo import generate_example_competence

    people = generate_example_competence(seed=seed, today=date.today())
    console.print(
        f"Example competence: {people['staff']} pseudonymous staff, {people['assessments']} assessments, "
        f"{people['completions']} certificates, {people['courses']} courses (marked example)."
    )


def _org_unit(code: str):
    """The org unit ``code``, or exit 2 with an error naming it."""
    from problembild.core.models import OrgUnit

    org = OrgUnit.objects.filter(code=code).first()
    if org is None:
        err_console.print(f"[red]Error: no org unit with code {escape(code)!r}[/red]", highlight=False)
        raise typer.Exit(2)
    return org


@contextmanager
def native_stdout_silenced():
    """Keep what native libraries print on file descriptor 1 out of the command's output.

    HiGHS prints a banner when a process builds its first model, whatever its options say;
    ``--json`` output must stay parseable. C's buffers are flushed before fd 1 comes back.
    """
    import ctypes

    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


@app.command()
def allocate(
    unit: str = typer.Option(..., "--unit", help="Org unit code: the areas under it get officers."),
    available: int | None = typer.Option(
        None,
        "--available",
        help="Officers to place (default: the unit's capacity plus the expected increase).",
    ),
    period: str | None = typer.Option(None, help="Staffing month YYYY-MM (default: the latest)."),
    cap: int | None = typer.Option(None, help="At most this many officers per area."),
    max_change: int | None = typer.Option(None, "--max-change", help="At most this many officers moved."),
    extra: int = typer.Option(0, help="Current allocation plus this many new officers (nobody moves)."),
    robust: str = typer.Option("none", help="none, expected or worst_decile over 200 demand scenarios."),
    save: str | None = typer.Option(None, "--save", help="Save the scenario under this name."),
    example: bool = typer.Option(False, "--example", help="Mark the saved scenario as example data."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Place area officers across the areas under a unit by need, floors, caps and turnover (HiGHS)."""
    setup_django()
    from problembild.resources.importers import FieldError, parse_month
    from problembild.resources.scenarios import Parameters, run_scenario, summary

    org = _org_unit(unit)
    try:
        month = parse_month(period) if period else None
        params = Parameters(available=available, cap=cap, max_change=max_change, extra=extra, robust=robust)
        with native_stdout_silenced():
            scenario = run_scenario(
                org, params, period=month, name=save or "", save=save is not None, example=example
            )
    except (ValueError, FieldError) as exc:
        err_console.print(f"[red]Error: {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from None
    data = summary(scenario)
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False, default=str))
        return
    result = scenario.result
    console.print(
        f"{org.name}: {result['proposed_total']} of {result['available']} officers placed "
        f"(now {result['current_total']}); floors {'met' if result['floors_met'] else 'NOT met'}"
        f" (short {result['shortfall']}); objective {result['objective']:.2f}; "
        f"{'optimal' if result['optimal'] else 'gap ' + format(result['gap'], '.4f')}"
    )
    for name, value in data["baselines"].items():
        if value is not None:
            console.print(f"  baseline {name}: objective {value:.2f}")
    for a in result["areas"]:
        console.print(f"  {a['name']}: {a['current']} -> {a['proposed']}  {a['text_en']}", highlight=False)
    for message in result["messages"]:
        console.print(f"[yellow]{escape(message)}[/yellow]", highlight=False)
    if save is not None:
        console.print(f"Saved as scenario {scenario.pk}.")


@app.command("training-plan")
def training_plan(
    period: int = typer.Option(..., "--period", help="The plan's year, e.g. 2027."),
    unit: str = typer.Option(
        "SE", "--unit", help="Org unit code whose staff are planned (default: the nation)."
    ),
    budget: float | None = typer.Option(None, "--budget", help="Budget in SEK (default: no limit)."),
    role: str | None = typer.Option(None, "--role", help="Only staff of this role (e.g. area_officer)."),
    max_days: float = typer.Option(10.0, "--max-days", help="At most this many course days per person."),
    away_share: float = typer.Option(
        0.05, "--away-share", help="At most this share of an area's working days away."
    ),
    save: str | None = typer.Option(None, "--save", help="Save the plan under this name."),
    example: bool = typer.Option(False, "--example", help="Mark the saved plan as example data."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Course places for a year that close the most weighted competence gaps (HiGHS), beside two baselines."""
    setup_django()
    from problembild.competence.planning import PlanParameters, cli_summary, run_plan

    org = _org_unit(unit)
    try:
        params = PlanParameters(
            budget=budget, max_days_per_person=max_days, away_share=away_share, role=role or None
        )
        with native_stdout_silenced():
            plan = run_plan(org, period, params, name=save or "", save=save is not None, example=example)
    except ValueError as exc:
        err_console.print(f"[red]Error: {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from None
    data = cli_summary(plan)
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False, default=str))
        return
    r = plan.result
    console.print(
        f"{org.name} {period}: {r['places']} places, {r['cost']:,.0f} SEK, weighted gap closed "
        f"{r['gap_closed']:.1f} of {r['gap_total']:.1f} ({r['levels_closed']} of {r['levels_total']} levels); "
        f"{'optimal' if r['optimal'] else 'gap ' + format(r['gap'] or 0, '.4f')}"
    )
    for name, value in r["baselines"].items():
        console.print(f"  baseline {name}: weighted gap closed {value:.1f}")
    for c in r["courses"]:
        console.print(f"  {c['name']}: {c['places']} of {c['seats']} seats", highlight=False)
    if save is not None:
        console.print(f"Saved as training plan {plan.pk}.")


@assessment_app.command("diff")
def assessment_diff(
    from_year: int = typer.Argument(..., help="The earlier list year, e.g. 2021."),
    to_year: int = typer.Argument(..., help="The later list year, e.g. 2023."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What changed between two lists: added, removed, raised, lowered, split, merged, unchanged."""
    setup_django()
    from problembild.assessment.diff import KINDS, list_diff

    try:
        diff = list_diff(from_year, to_year)
    except LookupError as exc:
        err_console.print(f"[red]Error: {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(2) from None
    if as_json:
        console.print_json(json.dumps(diff.as_dict(), ensure_ascii=False))
        return
    console.print(f"{from_year} → {to_year}: {diff.totals['from']} → {diff.totals['to']} areas")
    for kind in KINDS:
        items = diff.changes[kind]
        console.print(f"  {kind}: {len(items)}")
        if kind != "unchanged":
            for item in items:
                move = " → ".join(c for c in (item.get("from"), item.get("to")) if c)
                console.print(
                    f"    {escape(item['name'])} ({item['panel_id']}) {escape(move)}", highlight=False
                )


def _audit_scope():
    """Every measure: the command runs for cron, as the operating system's user, not a signed-in one."""
    from problembild.audit.models import Measure

    return Measure.objects.all()


@audit_app.command("reminders")
def audit_reminders(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Overdue and due-soon (30 days) measures per owner unit, for a daily cron job."""
    setup_django()
    from problembild.audit.status import owner_names, reminders, states

    rows = states(_audit_scope())
    due = reminders(rows)
    owners = owner_names(due)
    data = [
        {
            "owner": owners[owner].code,
            "owner_name": owners[owner].name,
            "measures": [
                {
                    "id": m.pk,
                    "title": m.title,
                    "deadline": m.deadline.isoformat(),
                    "status": m.status,
                    "responsible_role": m.responsible_role,
                    "days_overdue": m.days_overdue,
                    "due_soon": m.due_soon,
                }
                for m in items
            ],
        }
        for owner, items in sorted(due.items(), key=lambda kv: owners[kv[0]].name)
    ]
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    if not data:
        console.print("No overdue or due-soon measures.")
    for owner in data:
        console.print(f"[bold]{escape(owner['owner_name'])}[/bold] ({owner['owner']})", highlight=False)
        for m in owner["measures"]:
            when = f"{m['days_overdue']} days overdue" if m["days_overdue"] else f"due {m['deadline']}"
            console.print(f"  {escape(m['title'])} – {when}", highlight=False)


@audit_app.command("status")
def audit_status(
    as_of: str | None = typer.Option(None, "--as-of", help="The date (YYYY-MM-DD) the status is read on."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Measures per status as they stood on a date (from the history of edits), with overdue counts."""
    setup_django()
    from datetime import date

    from problembild.audit.status import states, summarise

    try:
        on = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        err_console.print(f"[red]Error: --as-of must be a date YYYY-MM-DD, not {escape(as_of or '')!r}[/red]")
        raise typer.Exit(2) from None
    summary = summarise(states(_audit_scope(), on), on)
    data = {**summary.as_dict(), "as_of": on.isoformat()}
    if as_json:
        console.print_json(json.dumps(data))
        return
    console.print(f"Status on {data['as_of']}: {summary.total} measures, {summary.closed} closed")
    for code, n in summary.counts.items():
        console.print(f"  {code}: {n}")
    console.print(f"  overdue: {summary.overdue}, due within 30 days: {summary.due_soon}")


@app.command("demo-users")
def demo_users(
    reset: bool = typer.Option(False, help="Set a new password for the demo administrator."),
) -> None:
    """Create the demo administrator and one pseudonymous demo user per role; print the login once."""
    setup_django()
    from problembild.core.bootstrap import create_demo_users

    password = secrets.token_urlsafe(12)
    created = create_demo_users(admin_password=password, reset=reset)
    if created:
        console.print(
            "[bold green]Demo login[/bold green] (shown once): user [bold]admin[/bold] "
            f"password [bold]{password}[/bold]"
        )
        console.print(f"Pseudonymous demo users (same password): {', '.join(created[1:])}")
    else:
        console.print("Demo users exist already; `problembild demo-users --reset` sets a new password.")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Run the app: Django's server under dev settings, gunicorn under production settings."""
    setup_django()
    from django.conf import settings

    if settings.DEBUG:
        from django.core.management import call_command

        console.print(f"Serving on http://{host}:{port}/ (development server)")
        call_command("runserver", f"{host}:{port}", use_reloader=False)
    else:
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
        workers = str(max(2, (os.cpu_count() or 1) * 2))
        os.execvp(
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "problembild.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                workers,
                "--access-logfile",
                "-",
            ],
        )


@app.command()
def refresh(
    full: bool = typer.Option(False, "--full", help="Recompute every area, even unchanged ones."),
    cell_size: float = typer.Option(100.0, "--cell-size", help="Hot-spot grid cell size in metres."),
    as_of: str = typer.Option(
        "", "--as-of", help="End of the data (YYYY-MM-DD); default: the last incident."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print only the summary, as one line of JSON (for logs and schedulers)."
    ),
    areas: list[str] = typer.Option(
        [],
        "--areas",
        help="Compute the expensive parts of these areas only (panel ids, comma-separated or the option "
        "repeated); the other areas keep theirs. For schedulers that split the work.",
    ),
    contest_days: int = typer.Option(
        7,
        "--contest-days",
        min=0,
        help="Reuse an area's forecast method contest (the backtest) for this many days after the data "
        "end it ran on; 0: run it every time. --full always runs it.",
    ),
) -> None:
    """Compute the problem picture of every area and unit into the cache."""
    setup_django()
    from datetime import date

    from problembild.picture.refresh.run import RefreshOptions, UnknownAreas

    try:
        options = RefreshOptions(
            cell_size=cell_size, as_of=date.fromisoformat(as_of) if as_of else None, contest_days=contest_days
        )
    except ValueError as exc:
        err_console.print(f"[red]Error: --as-of: {exc}[/red]")
        raise typer.Exit(2) from None
    if cell_size <= 0:
        err_console.print("[red]Error: --cell-size must be positive[/red]")
        raise typer.Exit(2)
    chosen: list[int] | None = None
    if areas:
        parts = [p.strip() for a in areas for p in a.split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            err_console.print(
                f"[red]Error: --areas: panel ids separated by commas, not {escape(','.join(areas))!r}[/red]",
                highlight=False,
            )
            raise typer.Exit(2)
        chosen = [int(p) for p in parts]
    try:
        summary = _run_refresh(options, full=full, areas=chosen, bar=not as_json)
    except UnknownAreas as exc:
        err_console.print(
            f"[red]Error: --areas: no area has the panel id {', '.join(map(str, exc.panel_ids))}[/red]",
            highlight=False,
        )
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, default=str))
        return
    console.print_json(json.dumps(summary, ensure_ascii=False, default=str))


@app.command()
def stats(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Counts of classifications per year and category, and of incidents."""
    setup_django()
    from problembild.incidents.stats import stats as compute

    data = compute()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for year, cats in data["classifications"].items():
        console.print(
            f"{year}: " + ", ".join(f"{c} {n}" for c, n in cats.items()) + f" (total {sum(cats.values())})"
        )
    inc = data["incidents"]
    console.print(
        f"Incidents: {inc['total']} ({', '.join(f'{s} {n}' for s, n in inc['by_source'].items())}); "
        f"assigned {inc['assigned']}, approximate {inc['approximate']}, unassigned {inc['unassigned']}"
    )


@taxonomy_app.command("check")
def taxonomy_check(
    file: Path | None = typer.Argument(None, help="Taxonomy file; default: the configured one."),
) -> None:
    """Validate a taxonomy file and list the stored types it does not name."""
    setup_django()
    from problembild.incidents.services import configured_taxonomy, unnamed_types
    from problembild.incidents.taxonomy import TaxonomyError

    try:
        tax = configured_taxonomy(file)
    except TaxonomyError as exc:
        err_console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from None
    prefixes = ", ".join(repr(p + "…") for p in tax.excluded_prefixes)
    console.print(
        f"{tax.path}: valid; {len(tax.mapping)} types mapped, {len(tax.excluded)} excluded"
        + (f" (and every type starting with {prefixes})" if prefixes else "")
        + f", default {tax.default!r}.",
        highlight=False,
    )
    unnamed = unnamed_types(tax)
    if unnamed:
        console.print(
            f"{len(unnamed)} stored type(s) the taxonomy does not name (counted as {tax.default!r}):",
            highlight=False,
        )
        for raw_type, count in unnamed:
            console.print(f"  {raw_type}: {count}", highlight=False, markup=False)
    else:
        console.print("Every stored type is named by the taxonomy.")


@taxonomy_app.command("apply")
def taxonomy_apply() -> None:
    """Re-map every stored incident's indicator with the configured taxonomy."""
    setup_django()
    from problembild.incidents.services import reapply_taxonomy

    changed = reapply_taxonomy()
    console.print(f"{changed} incident(s) re-mapped.")


@app.command("backup")
def backup_cmd(
    directory: Path = typer.Argument(..., help="A new or empty directory for the backup."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one line of JSON."),
) -> None:
    """Write a consistent copy of the database and the evidence files, with a manifest, to DIRECTORY."""
    setup_django()
    from problembild.core.backup import backup

    _backup_step(lambda: backup(directory), as_json)


@app.command("restore")
def restore_cmd(
    directory: Path = typer.Argument(..., help="A directory written by `problembild backup`."),
    force: bool = typer.Option(False, "--force", help="Replace a database that holds data."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one line of JSON."),
) -> None:
    """Replace the database and the evidence files by a backup, and check the rows against its manifest."""
    setup_django()
    from problembild.core.backup import restore

    _backup_step(lambda: restore(directory, force=force), as_json)


def _backup_step(step, as_json: bool) -> None:
    """Run a backup or restore; print its summary; exit 2 on refused input, 1 on failure."""
    from problembild.core.backup import BackupError, BackupRefused

    try:
        summary = step()
    except BackupError as exc:
        err_console.print(f"[red]Error: {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(2 if isinstance(exc, BackupRefused) else 1) from None
    if as_json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    console.print(escape(summary.text()), highlight=False)


@app.command("token")
def token(
    username: str,
    name: str = typer.Option("", help="What the token is for."),
    days: int = typer.Option(365, help="Days until it expires (0: never)."),
) -> None:
    """Issue an API token for USERNAME; the key is printed once and only its hash is stored."""
    setup_django()
    from django.contrib.auth import get_user_model

    from problembild.core.models import ApiToken

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        err_console.print(f"[red]No user {username!r}.[/red]")
        raise typer.Exit(1)
    _, key = ApiToken.issue(user, name=name, days=days or None)
    console.print(f"API token for {username} (shown once): [bold]{key}[/bold]")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command (e.g. `problembild manage createsuperuser`)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["problembild manage", *ctx.args])


def main() -> None:
    app()


if __name__ == "__main__":
    main()
