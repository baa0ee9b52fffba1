"""Accessibility in Chromium (docs/accessibility.md): axe-core's WCAG 2 A and AA rules on the
daily pages, keyboard focus on every daily page, and the 大字号 (larger text) mode.

axe-core is a test asset (tests/e2e/assets/axe-core/, MPL-2.0), injected into each page;
the application never serves it. The pages are read only, so one live server on a copy of
the demo ledger (docs/rules.md#demo-data) serves the whole module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import login, screenshot, serve_demo_copy

AXE = Path(__file__).parent / "assets" / "axe-core" / "axe.min.js"
AXE_RUN = """() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
  .then(r => r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))
  })))"""

#: The open demo period and a town of it.
OPEN_PERIOD = "2026Q3"
BAITA = "445203108000"  # 白塔镇

#: (name, user who opens it, URL): the nine daily pages, with the role that works on each,
#: the entry grid of one town, and more.
PAGES = [
    ("login", None, "/login"),
    ("dashboard", "admin", "/admin/"),
    ("ranking", "assessor", "/admin/ranking/"),
    ("entry", "assessor", "/admin/entry/"),
    ("entry-grid", "assessor", f"/admin/entry/?period={OPEN_PERIOD}&level=town&unit={BAITA}"),
    ("import", "assessor", "/admin/import/"),
    ("review", "supervisor", "/admin/review/"),
    ("history", "auditor", "/admin/history/"),
    ("town", "admin", "/admin/town/"),
    ("cadre-ledger", "supervisor", "/admin/cadre-ledger/"),
    # the reports of an approved period: the 通报's doors and the batch's button
    ("reports-index", "auditor", "/admin/reports/?period=2026Q1"),
    # and three that exercise the frame's fixes for Flask-Admin's own widgets: a cadre's sheet
    # (chart, breadcrumb), a form with select2 boxes, a list with column help icons
    ("cadre-sheet", "supervisor", "/admin/cadre-ledger/1"),
    ("cadre-record-form", "supervisor", "/admin/cadre_record/new/"),
    ("scheme-list", "admin", "/admin/scheme/"),
    # the supervisor's ranking opens on the submitted period, with 退回 and 审定并锁定
    ("ranking-review", "supervisor", "/admin/ranking/"),
    # a published scheme: its form read-only beside the 建立新版本 button; a date form
    ("scheme-published", "admin", "/admin/scheme/edit/?id=1"),
    ("period-form", "admin", "/admin/period/new/"),
    # 年度综合考评 with its quota note, the tie marked, and the supervisor's calibration form
    ("annual", "supervisor", "/admin/annual/"),
]
#: Each role's own dashboard (its panels differ).
DASHBOARDS = ["assessor", "supervisor", "auditor", "reviewer"]


@pytest.fixture(scope="module")
def a11y_server(demo_database, tmp_path_factory):
    yield from serve_demo_copy(demo_database, tmp_path_factory.mktemp("a11y"))


def open_page(page, server, user: str | None, path: str) -> None:
    if user:
        login(page, server, user)
    page.goto(f"{server.url}{path}")
    page.wait_for_load_state("networkidle")


def axe_violations(page) -> list[dict]:
    # Evaluated through the browser's debugging protocol: the page's CSP (no inline
    # scripts, docs/rules.md#security) would refuse an injected <script> tag.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(AXE_RUN)


def report(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}): {v['help']}")
        for node in v["nodes"][:15]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}  —  {summary[:300]}")
    return "\n".join(lines)


def assert_no_violations(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core (WCAG 2 A/AA) on {page.url}:\n{report(violations)}"


def set_large_text(page, large: bool) -> None:
    """Press the 大字号 button, by keyboard, until it shows the wanted state."""
    button = page.locator("#text-size-toggle")
    if (button.get_attribute("aria-pressed") == "true") != large:
        button.focus()
        page.keyboard.press("Enter")
    assert button.get_attribute("aria-pressed") == ("true" if large else "false")
    # Bootstrap's buttons fade to their new colours: judge the contrast once they are there.
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")


def assert_fits_width(page) -> None:
    """The page itself never scrolls sideways; a wide table scrolls inside its box."""
    widths = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    assert widths["page"] <= widths["view"], (page.url, widths)


@pytest.mark.parametrize("name,user,path", PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_wcag_violations(page, a11y_server, name, user, path):
    open_page(page, a11y_server, user, path)
    lang = page.get_attribute("html", "lang")
    assert lang == "zh-CN"
    assert_no_violations(page)


@pytest.mark.parametrize("user", DASHBOARDS)
def test_every_dashboard_has_no_wcag_violations(page, a11y_server, user):
    open_page(page, a11y_server, user, "/admin/")
    assert_no_violations(page)


def test_english_pages_say_so(page, a11y_server):
    open_page(page, a11y_server, "assessor", "/admin/ranking/")
    page.goto(f"{a11y_server.url}/lang/en?next=/admin/ranking/")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("#text-size-toggle") == "Larger text"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/ranking/",
        # the widest table: typical villages with rank intervals (docs/rules.md#demo-data)
        "/admin/ranking/?period=2026Q1&level=village&uncertainty=1",
        f"/admin/entry/?period={OPEN_PERIOD}&level=town&unit={BAITA}",
    ],
    ids=["ranking", "ranking-villages-intervals", "entry-grid"],
)
def test_larger_text_mode(page, a11y_server, tmp_path, request, path):
    page.set_viewport_size({"width": 1280, "height": 900})
    open_page(page, a11y_server, "assessor", path)
    assert page.inner_text("#text-size-toggle") == "大字号"
    root_size = "() => getComputedStyle(document.documentElement).fontSize"
    assert page.evaluate(root_size) == "16px"

    set_large_text(page, True)
    assert "text-large" in page.get_attribute("html", "class")
    assert page.evaluate(root_size) == "20px"
    assert_fits_width(page)
    assert_no_violations(page)

    # Remembered: the next page (and a reload) opens large, the button says it is on.
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.evaluate(root_size) == "20px"
    assert page.get_attribute("#text-size-toggle", "aria-pressed") == "true"
    assert_fits_width(page)
    screenshot(page, tmp_path, f"a11y-large-{request.node.callspec.id}")

    set_large_text(page, False)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.evaluate(root_size) == "16px"


def test_login_page_offers_larger_text(page, a11y_server):
    page.goto(f"{a11y_server.url}/login")
    set_large_text(page, True)
    login(page, a11y_server, "assessor")
    assert page.get_attribute("#text-size-toggle", "aria-pressed") == "true"
    assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "20px"


def test_keyboard_reaches_save_with_a_visible_focus_ring(page, a11y_server):
    open_page(
        page,
        a11y_server,
        "assessor",
        f"/admin/entry/?period={OPEN_PERIOD}&level=town&unit={BAITA}",
    )
    page.locator("body").focus()
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "entry-save":
            break
    else:
        pytest.fail("Tab never reached the save button (#entry-save)")
    ring = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                           color: s.outlineColor}; }"""
    )
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    # The first Tab stop of a page is the skip link to its content.
    page.goto(page.url)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"


#: Marks the focused element and says what it is and whether its focus can be seen.
TAB_STOP = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  // A date field takes several Tab presses (year, month, day): still the same stop.
  const same = el === window.lastTabStop;
  const again = el.dataset.tabbed === '1' && !same;
  el.dataset.tabbed = '1';
  window.lastTabStop = el;
  // Flask-Admin's select2 boxes take the focus in a 1 px off-screen input and show it on
  // the box around it: judge the box a person sees.
  const shown = el.closest('.select2-container')
    ?.querySelector('.select2-choice, .select2-choices') || el;
  const s = getComputedStyle(shown), box = shown.getBoundingClientRect();
  return {again, same, name: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                       (el.name ? '[name=' + el.name + ']' : '') + ' ' +
                       (el.innerText || el.value || el.getAttribute('aria-label') || '')
                         .trim().slice(0, 30),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
          seen: box.width > 0 && box.height > 0};
}"""
#: The controls a person can see and use on the page that Tab never reached (a radio group
#: counts as reached when one of its radios was: the arrow keys move inside it).
NOT_TABBED = """() => {
  const reached = new Set([...document.querySelectorAll('input[type=radio][data-tabbed]')]
                            .map(r => r.name));
  return [...document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, [tabindex], [onclick]')]
    .filter(el => !el.disabled && el.dataset.tabbed !== '1')
    .filter(el => el.getAttribute('tabindex') !== '-1' || el.hasAttribute('onclick'))
    .filter(el => !(el.type === 'radio' && reached.has(el.name)))
    .filter(el => { const b = el.getBoundingClientRect(), s = getComputedStyle(el);
                    return b.width > 0 && b.height > 0 && s.visibility !== 'hidden'; })
    .map(el => el.outerHTML.slice(0, 120));
}"""


#: The nine daily pages (docs/accessibility.md#what-is-checked) and a town's entry grid.
KEYBOARD_PAGES = [
    p for p in PAGES if p[0] not in ("cadre-sheet", "cadre-record-form", "scheme-list")
]


@pytest.mark.parametrize("name,user,path", KEYBOARD_PAGES, ids=[p[0] for p in KEYBOARD_PAGES])
def test_every_control_is_reached_by_tab_with_a_visible_focus(page, a11y_server, name, user, path):
    """Each action on the page can be reached from the keyboard, and where the focus is can
    be seen: Tab walks the whole page once; every stop is on screen with a 2 px outline, and
    no visible control (link, button, field) is left out of the walk."""
    open_page(page, a11y_server, user, path)
    # Start at the top, whatever field the page focused by itself (autofocus).
    page.evaluate(
        "() => { const b = document.body; b.tabIndex = -1; b.focus();"
        " b.removeAttribute('tabindex'); }"
    )
    stops, unseen = [], []
    for _ in range(800):
        page.keyboard.press("Tab")
        stop = page.evaluate(TAB_STOP)
        if stop is None or stop["again"]:
            break  # past the end or back at the top: the walk is complete
        if stop["same"]:
            continue
        stops.append(stop["name"])
        if not (stop["outline"] and stop["seen"]):
            unseen.append(stop)
    else:
        pytest.fail(f"Tab never came round on {path}: {len(stops)} stops")
    assert stops, f"no Tab stop on {path}"
    assert not unseen, f"focus not visible on {path}: {unseen}"
    missed = page.evaluate(NOT_TABBED)
    assert not missed, f"controls Tab never reaches on {path}: {missed}"
