"""English mode is complete: every page a role reaches from its menu, and the main custom
pages, read in English show no Chinese but the data (docs/architecture.md#translations).

The world is the district demo (``flask seed-demo``): approved and open periods, cadres,
projects, reviews, the annual 2026Y — the pages with their real content.

What counts as data, honestly: every text the database holds — each string column of each
table (unit, indicator, scheme, period and people's names, positions, notes, the grade
names a scheme defines, the units' kinds 镇/街道…), each string inside a JSON column (a
scheme's grades, an event's before/after), and each part of such a text split at
commas (tags). Those are removed from a page's visible text (longest first; a value of one
character, such as the unit kind 镇 or a grade 优, only where it stands alone, so that it
does not hide a label such as 镇街); any Han character left is a label, a heading, a
message that did not go through the catalog.
Stored codes (``open``, ``admin``, ``high``) are not Chinese, so their labels are never
taken for data. What a page may show in Chinese on purpose is listed in ``ALLOWED`` (the
name of the other language on the switch, the demo mark, the Chinese half of an import
file's column names).

Visible text: text nodes outside ``<script>``/``<style>``, the strings of the JSON a chart
draws (``<script type="application/json">``), and the ``title``, ``placeholder``,
``aria-label`` and ``alt`` attributes and button values a screen reader or a mouse shows.
Full-width punctuation is not checked (it surrounds data: 云路镇（445203…）).

To add a page: append its URL to ``PAGES`` (``{approved}``, ``{open}``, ``{town}``,
``{village}``, ``{cadre}`` are filled from the demo); a page on the menu is walked without
being listed.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from evaluation.demo import district as demo
from models import Cadre, Period, Unit, db
from tests.conftest import BACKENDS, database_url, test_app

ROLES = ("admin", "assessor", "supervisor", "auditor", "reviewer")

#: The main custom pages, walked as every role that may open them (a 403 is skipped) on
#: top of the menu's links. ``{approved}`` is the latest approved quarter, ``{open}`` the
#: open one, ``{town}`` the first town's code, ``{village}`` a typical village's id,
#: ``{cadre}`` the first cadre's id.
PAGES = [
    "/admin/",
    "/admin/entry/?period={open}",
    "/admin/entry/?period={open}&level=village",
    "/admin/import/",
    "/admin/ranking/?period={approved}",
    "/admin/ranking/?period={open}",
    "/admin/ranking/?period={approved}&level=village",
    "/admin/reports/?period={approved}",
    "/admin/reports/town?period={approved}&unit={town}",
    "/admin/annual/",
    "/admin/weights/",
    "/admin/weights/diagnostics",
    "/admin/weights/whatif",
    "/admin/weights/sensitivity",
    "/admin/history/",
    "/admin/review/",
    "/admin/review/village/{village}",
    "/admin/cadre-ledger/",
    "/admin/cadre-ledger/{cadre}",
    "/admin/projects-board/",
    "/admin/period/",
    "/admin/scheme/",
    "/admin/indicator/",
    "/admin/user/",
    "/account/password",
]

#: What a page may show in Chinese on purpose.
ALLOWED = (
    "中文",  # the language switch names the other language in that language
    "演示数据",  # the demo mark keeps its Chinese words on purpose (docs/demo.md)
    # the Chinese half of the column headers an import file may carry (考核周期/period …)
    "考核周期/",
    "单位代码/",
    "指标代码/",
    "数值/",
    "备注/",
)

HAN_CHAR = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
HAN = re.compile(HAN_CHAR + "+")
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class VisibleText(HTMLParser):
    """Collect what a person sees or hears of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._chart_data = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and values.get("type") == "application/json":
            self._chart_data = True  # the figures a chart draws, its names and labels
        if tag in ("script", "style"):
            self._hidden += 1
        for name in SHOWN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1
        self._chart_data = False

    def handle_data(self, data):
        if self._chart_data:
            self.parts += _strings(json.loads(data))
        elif not self._hidden and data.strip():
            self.parts.append(data)


def visible_text(page: str) -> list[str]:
    parser = VisibleText()
    parser.feed(page)
    return parser.parts


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def data_values() -> list[str]:
    """Every Chinese text the database holds, and its comma-separated parts, longest first."""
    found: set[str] = set()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            for value in row:
                for text in _strings(value):
                    if HAN.search(text):
                        found.add(text.strip())
                        found.update(p.strip() for p in re.split(r"[,，、;；\n]", text))
    # The 容错纠错 situations are the department's own list (an admin edits it; until then
    # the three 三个区分开来 situations stand in, kept in code): data like a unit's name.
    from evaluation.tolerance import operations as tolerance

    found.update(tolerance.situations())
    return sorted((t for t in found if t), key=len, reverse=True)


def untranslated(page: str, data: list[str]) -> list[str]:
    """The runs of Han characters left in a page's visible text once the data is gone."""
    left = []
    for part in visible_text(page):
        text = part
        for value in data:
            if value not in text:
                continue
            if len(value) > 1:
                text = text.replace(value, " ")
            else:  # 镇, 分, 优: data only where it stands alone, not inside a word
                text = re.sub(rf"(?<!{HAN_CHAR}){re.escape(value)}(?!{HAN_CHAR})", " ", text)
        for allowed in ALLOWED:
            text = text.replace(allowed, " ")
        for run in HAN.finditer(text):
            start, end = max(run.start() - 20, 0), run.end() + 20
            left.append(f"{run.group()}  «{' '.join(text[start:end].split())}»")
    return left


class Demo:
    def __init__(self, app, instance: Path):
        self.app = app
        text = (instance / demo.CREDENTIALS_FILE).read_text(encoding="utf-8")
        self.passwords = {user: password for _, user, password in map(str.split, text.splitlines())}
        with app.app_context():
            self.data = data_values()
            approved = db.session.scalars(
                select(Period.code)
                .where(Period.status == "approved", Period.code.like("%Q%"))
                .order_by(Period.end_date.desc())
            ).first()
            opened = db.session.scalars(
                select(Period.code).where(Period.status == "open").order_by(Period.end_date)
            ).first()
            town = db.session.scalars(
                select(Unit.code).where(Unit.level == "town").order_by(Unit.sort_order)
            ).first()
            cadre = db.session.scalars(select(Cadre.id).order_by(Cadre.id)).first()
            village = db.session.scalars(
                select(Unit.id)
                .where(Unit.level == "village", Unit.typical_batch.is_not(None))
                .order_by(Unit.code)
            ).first()
            db.session.remove()
        self.fill = {"approved": approved, "open": opened, "town": town, "village": village,
                     "cadre": cadre}  # fmt: skip

    def client_in_english(self, role: str):
        client = self.app.test_client()
        response = client.post("/login", data={"username": role, "password": self.passwords[role]})
        assert response.status_code == 302, role
        client.get("/lang/en")
        return client


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"english-{request.param}")
    app = test_app(database_url(request.param, tmp), tmp / "instance")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    yield Demo(app, tmp / "instance")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def menu_links(page: str) -> list[str]:
    """The pages a role's menu (the navigation bar) links to."""
    menu = page.split('id="admin-navbar-collapse"', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'href="(/[^"#]*)"', menu)
    return [link.replace("&amp;", "&") for link in links if not link.startswith("/lang/")]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role_reads_in_english(seeded, role):
    client = seeded.client_in_english(role)
    home = client.get("/admin/")
    assert home.status_code == 200
    urls = list(dict.fromkeys([*menu_links(home.get_data(as_text=True)),
                               *(url.format(**seeded.fill) for url in PAGES)]))  # fmt: skip
    problems, walked = [], 0
    for url in urls:
        response = client.get(url, follow_redirects=True)
        if response.status_code == 403:
            continue
        assert response.status_code == 200, (url, response.status_code)
        if not response.content_type.startswith("text/html"):
            continue
        walked += 1
        problems += [f"{url}: {left}" for left in untranslated(response.get_data(as_text=True),
                                                                seeded.data)]  # fmt: skip
    assert walked >= 5, urls
    assert not problems, "\n" + "\n".join(dict.fromkeys(problems))


def test_the_check_finds_chinese_that_is_not_data():
    """The check itself: a label is found, the same word as data is not."""
    page = (
        '<p title="提示">云路镇 状态</p><script>var x = "脚本";</script><a>中文</a>'
        '<b>镇 镇街</b><script type="application/json">{"series": ["得分"]}</script>'
    )
    found = untranslated(page, ["云路镇", "镇"])
    assert [item.split()[0] for item in found] == ["提示", "状态", "镇街", "得分"]
