"""Accessibility (WCAG 2.1 AA): axe-core on every page, keyboard and text alternatives of maps and charts.

axe-core comes with ``axe-playwright-python`` (its script is in the package, so nothing is
downloaded): each page is loaded as its users see it, its ``<details>`` opened (the tables
beside the charts), and axe run in Chromium. A page passes with no serious or critical
violation and with all its content inside landmarks (``landmark-one-main``, ``region``).
"""

from __future__ import annotations

import json
import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

AXE = Axe()
#: Rules that fail a page whatever impact axe gives them (the print page had neither landmark).
ALWAYS = {"landmark-one-main", "region"}


def assert_accessible(page, name: str) -> None:
    """Run axe-core on ``page`` with its details open; fail on serious or critical violations."""
    page.evaluate("document.querySelectorAll('details').forEach(function (d) { d.open = true; })")
    violations = AXE.run(page).response["violations"]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(violations, indent=1, ensure_ascii=False))
    failing = [v for v in violations if v["impact"] in ("serious", "critical") or v["id"] in ALWAYS]
    assert not failing, "\n".join(
        f"{v['id']} ({v['impact']}) on {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['html'][:200]}"
        for v in failing
    )


# (name, user, path, selectors to wait for before the check)
PAGES = [
    ("overview", "admin", "/", ["#map[data-loaded]"]),
    (
        "overview-filtered",
        "admin",
        "/?region=5600&indicator=shootings&period=year",
        ["#map[data-loaded]"],
    ),
    (
        "area",
        "admin",
        "/areas/48/",
        [
            "#trend-chart[data-drawn=all] .main-svg",
            "#how-chart[data-drawn=all] .main-svg",
            "#map[data-hotspots]",
        ],
    ),
    ("unit-region", "admin", "/units/5600/", ["#trend-chart[data-drawn] .main-svg"]),
    ("unit-lpo-chief", "lpo.botkyrka", "/units/5312-botkyrka/", ["#trend-chart[data-drawn] .main-svg"]),
    ("feed", "admin", "/feed/", ["#feed-map[data-loaded]", "#feed-chart[data-drawn] .main-svg"]),
    ("feed-municipality", "admin", "/feed/?municipality=1280", ["#feed-map[data-loaded]"]),
    ("import", "admin", "/import/", []),
    ("access-log", "admin", "/access-log/", []),
    ("access-log-filtered", "revisor", "/access-log/?action=view", []),
    ("access-log-refused-filter", "revisor", "/access-log/?action=nonsense", [".filters .error"]),
    ("access-review", "admin", "/access-review/", []),
    ("export-reason-area", "admin", "/areas/48/export.csv", ["form.export-form"]),
    ("export-reason-overview", "admin", "/export/overview.xlsx", ["form.export-form"]),
    ("followup-unit", "lpo.botkyrka", "/followup/units/5312-botkyrka/", []),
    ("followup-strategy", "noa.analytiker", "/followup/strategy/", []),
    ("followup-methods", "lasare", "/followup/methods/", []),
    ("followup-activities", "lpo.botkyrka", "/followup/activities/", []),
    ("competence-unit", "hr.nationell", "/competence/units/5312-botkyrka/", []),
    ("competence-needs", "hr.nationell", "/competence/needs/", ["#needs-chart[data-drawn] .main-svg"]),
    ("competence-profiles", "noa.analytiker", "/competence/profiles/", []),
    ("competence-courses", "hr.nationell", "/competence/courses/", []),
    ("competence-person", "us.botkyrka", "/competence/", ["#gap-list"]),
    ("assessment-index", "noa.analytiker", "/assessment/", []),
    ("assessment-diff", "noa.analytiker", "/assessment/diff/", ["#diff-changes"]),
    ("assessment-round", "noa.analytiker", "/assessment/rounds/1/", ["#round-answers"]),
    ("assessment-answer", "noa.analytiker", "/assessment/answers/1/", ["#answer-objective"]),
    ("audit-dashboard", "revisor", "/audit/", []),
    ("audit-dashboard-past", "revisor", "/audit/?on=2019-01-01", ["#as-of"]),
    ("audit-measure", "po.stockholm.syd", "/audit/measures/2/", ["#measure-status"]),
    ("audit-report", "noa.analytiker", "/audit/report/", ["#report-summary"]),
    (
        "resources-police-area",
        "po.stockholm.syd",
        "/resources/units/5312/",
        ["#week-presence[data-drawn] .main-svg", "#protected-chart[data-drawn] .main-svg"],
    ),
]


@pytest.mark.parametrize(("name", "user", "path", "ready"), PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_serious_accessibility_violations(login, server, name, user, path, ready):
    page = login(user)
    page.goto(server + path)
    for selector in ready:
        page.wait_for_selector(selector)
    assert_accessible(page, name)


def test_english_overview_has_no_serious_accessibility_violations(login, server):
    page = login("admin")
    page.click("form.lang button")
    page.wait_for_selector("html[lang=en]")
    page.wait_for_selector("#map[data-loaded]")
    assert_accessible(page, "overview-en")


def test_login_page_has_no_serious_accessibility_violations(browser, server):
    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        page.goto(server + "/login/")
        assert_accessible(page, "login")
        page.fill("#id_username", "no-such-user")  # one failure, far below the lockout limit
        page.fill("#id_password", "not-the-password")
        page.click("main form button[type=submit]")
        page.wait_for_selector("main .error")
        assert_accessible(page, "login-failed")
    finally:
        context.close()


def test_print_page_has_landmarks_and_no_serious_violations(login, server):
    page = login("admin")
    page.goto(server + "/areas/48/print/")
    if page.locator("#id_reason").count():  # the print page may ask for a reason first
        assert_accessible(page, "print-reason")
        page.fill("#id_reason", "Tillgänglighetstest")
        page.fill("#id_recipient", "CI")
        page.click("form.export-form button[type=submit]")
    page.wait_for_selector("#print-button")
    assert page.locator("main h1").count() == 1
    assert_accessible(page, "print")


def test_import_report_has_no_serious_accessibility_violations(login, server, tmp_path):
    page = login("admin")
    page.goto(server + "/import/")
    bad = tmp_path / "incidents.csv"
    bad.write_text("occurred_at,type,x,y\nnot-a-date,Misshandel,1,2\n", encoding="utf-8")
    kinds = page.locator("select[name=kind] option").evaluate_all("(os) => os.map((o) => o.value)")
    page.select_option("select[name=kind]", "incidents" if "incidents" in kinds else kinds[0])
    page.set_input_files("input[type=file]", str(bad))
    page.click("form.import-form button[type=submit]")
    page.wait_for_selector("#report-heading, .import-form .error")
    assert_accessible(page, "import-report")


def test_403_page_has_no_serious_accessibility_violations(login, server):
    page = login("lpo.botkyrka")
    response = page.goto(server + "/areas/48/")  # Rosengård lies outside Botkyrka
    assert response.status == 403
    assert_accessible(page, "403")


def test_404_page_has_no_serious_accessibility_violations(login, server, served, manage):
    # The test server runs with DEBUG (Django's own 404 page), so the product's 404 page is
    # rendered without DEBUG by a client in the served database and shown at the same URL.
    out = served.data / "404.html"
    manage(
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client, override_settings\n"
        "with override_settings(DEBUG=False, ALLOWED_HOSTS=['*']):\n"
        "    c = Client()\n"
        "    c.force_login(get_user_model().objects.get(username='admin'))\n"
        "    r = c.get('/areas/999999/')\n"
        "    assert r.status_code == 404, r.status_code\n"
        f"    open({str(out)!r}, 'wb').write(r.content)\n"
    )
    html = out.read_bytes()
    assert b'id="main"' in html
    page = login("admin")
    page.route(
        server + "/areas/999999/",
        lambda route: route.fulfill(
            status=404, body=html, headers={"content-type": "text/html; charset=utf-8"}
        ),
    )
    response = page.goto(server + "/areas/999999/")
    assert response.status == 404
    assert_accessible(page, "404")


# --- maps and charts: keyboard and a table with the same figures ---


def test_overview_map_is_focusable_and_every_area_on_it_is_a_link_in_the_table(login, server):
    page = login("admin")
    page.wait_for_selector("#map[data-loaded]")
    assert page.get_attribute("#map", "tabindex") == "0"  # Leaflet: arrows pan, +/- zoom
    assert page.locator("#map-note").count() == 1
    assert page.locator("#map path[aria-label]").count() == 0
    on_map = set(
        page.locator("#map path[data-panel-id]").evaluate_all("(ps) => ps.map((p) => p.dataset.panelId)")
    )
    hrefs = page.locator("#register tbody a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
    linked = {m.group(1) for h in hrefs if (m := re.fullmatch(r"/areas/(\d+)/", h))}
    assert len(on_map) == 59 and on_map <= linked
    page.focus("#map")
    page.keyboard.press("ArrowDown")  # pans from the keyboard without an error
    assert page.evaluate("document.activeElement.id") == "map"


def test_area_heat_map_table_holds_the_charts_figures_and_follows_the_indicator(login, server):
    page = login("admin")
    page.goto(server + "/areas/48/")
    page.wait_for_selector("#how-chart[data-drawn=all] .main-svg")
    data = json.loads(page.locator("#picture-data").text_content())

    def shown_table() -> tuple[str, list[list[int]]]:
        tables = page.locator("#how-tables [data-indicator]:visible")
        assert tables.count() == 1
        code = tables.get_attribute("data-indicator")
        rows = tables.locator("tbody tr").evaluate_all(
            "(rs) => rs.map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent.trim()))"
        )
        return code, [[int(c) for c in row] for row in rows]

    page.click("#how-tables summary")
    code, rows = shown_table()
    assert code == "all" and rows == data["hour_of_week"]["all"]
    page.select_option("#how-indicator", "violence_public")
    page.wait_for_selector("#how-chart[data-drawn=violence_public]")
    code, rows = shown_table()
    assert code == "violence_public" and rows == data["hour_of_week"]["violence_public"]
    assert page.locator("#trend-chart[role=figure][aria-describedby=trend-table-summary]").count() == 1
    assert page.locator("#how-chart[role=figure][aria-describedby=how-table-summary]").count() == 1


def test_unit_chart_table_holds_the_charts_counts(login, server):
    page = login("admin")
    page.goto(server + "/units/5600/")
    page.wait_for_selector("#trend-chart[data-drawn] .main-svg")
    data = json.loads(page.locator("#picture-data").text_content())
    series = data["series"]["all"]
    rows = page.locator("#unit-monthly tbody tr").evaluate_all(
        "(rs) => rs.map((r) => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim()])"
    )
    assert [m for m, _ in rows] == [m[:7] for m in series["months"]]
    assert [int(n) for _, n in rows] == series["counts"]


def test_feed_chart_table_holds_the_charts_counts(login, server):
    page = login("admin")
    page.goto(server + "/feed/")
    page.wait_for_selector("#feed-chart[data-drawn] .main-svg")
    chart = json.loads(page.locator("#feed-data").text_content())["chart"]
    months = page.locator("#feed-chart-table thead th").evaluate_all("(ths) => ths.map((t) => t.textContent)")
    assert months[1:] == chart["months"]
    rows = page.locator("#feed-chart-table tbody tr").evaluate_all(
        "(rs) => rs.map((r) => Array.from(r.cells).map((c) => c.textContent.trim()))"
    )
    assert [r[0] for r in rows] == [s["name"] for s in chart["series"]]
    assert [[int(c) for c in r[1:]] for r in rows] == [s["counts"] for s in chart["series"]]


# --- names in map tooltips are text, never HTML ---

HOSTILE = '<b>fet</b><img src=x onerror="window.__pbxss=1">'


@pytest.fixture
def hostile_names(manage):
    """Araby (panel 3) and Ale (municipality 1440) renamed to markup for one test, then restored."""
    rename = (
        "from problembild.areas.models import Area, Municipality\n"
        "a = Area.objects.get(panel_id=3); a.name = {area!r}; a.save()\n"
        "m = Municipality.objects.get(code='1440'); m.name = {muni!r}; m.save()\n"
    )
    manage(rename.format(area="Araby " + HOSTILE, muni="Ale " + HOSTILE))
    yield
    manage(rename.format(area="Araby", muni="Ale"))


def _tooltip_after_hover(page, path_selector: str):
    page.locator(path_selector).first.dispatch_event("mouseover")
    tooltip = page.locator(".leaflet-tooltip-pane .leaflet-tooltip").first
    tooltip.wait_for()
    return tooltip


def test_area_and_municipality_names_are_text_in_map_tooltips(login, server, hostile_names):
    page = login("admin")
    page.wait_for_selector("#map[data-loaded]")
    tooltip = _tooltip_after_hover(page, '#map path[data-panel-id="3"]')
    assert HOSTILE in tooltip.inner_text()
    assert tooltip.locator("b, img").count() == 0
    assert page.locator(".leaflet-container img[src=x]").count() == 0

    page.goto(server + "/feed/")
    page.wait_for_selector("#feed-map[data-loaded]")
    tooltip = _tooltip_after_hover(page, '#feed-map path[data-code="1440"]')
    assert HOSTILE in tooltip.inner_text()
    assert tooltip.locator("b, img").count() == 0
    assert page.locator(".leaflet-container img[src=x]").count() == 0
    assert page.evaluate("window.__pbxss") is None
