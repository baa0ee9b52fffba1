"""One rule table (docs/rules.md#where-a-rule-lives): every problem code of
``evaluation/scoring/rules.py`` has an English and a Chinese wording, the engine and the
services report the same codes, and a rule only the engine checks reaches the user in
Chinese."""

from __future__ import annotations

import string
from collections import defaultdict
from decimal import Decimal

import pytest

from evaluation.core.writing import InvalidInput, SystemActor
from evaluation.history import records
from evaluation.ranking import reading
from evaluation.schemes import operations as schemes
from evaluation.schemes.messages import MESSAGES, chinese, engine_problem
from evaluation.scoring import rules, validate
from models import Dimension, Indicator, Scheme, db
from models import schemes as scheme_models
from tests.test_scoring_validation import good_document

SETUP = SystemActor("test-setup")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_code_has_an_english_and_a_chinese_message():
    assert set(MESSAGES) == set(rules.CODES)
    anything = defaultdict(lambda: "X")
    for code in rules.CODES:
        assert rules.CODES[code].format_map(anything), code
        assert MESSAGES[code].format_map(anything), code
        # Chinese may name the item (owner, where) and the grade key beside the
        # parameters the English wording is given.
        assert _placeholders(MESSAGES[code]) <= _placeholders(rules.CODES[code]) | {
            "owner", "where", "key", "name", "value", "difference", "min", "code", "first",
            "low", "high",
        }, code  # fmt: skip


@pytest.mark.parametrize(
    ("code", "params", "owner", "english", "chinese_text"),
    [
        ("points.not_positive", {"value": "0"}, "指标 A",
         "must be greater than 0", "指标 A的分值 0 必须大于 0"),
        ("points.too_many_decimals", {"value": "10.125"}, "指标 B",
         "must have at most two decimals", "指标 B的分值 10.125 最多两位小数"),
        ("points.sum_mismatch", {"sum": "40", "total": "100", "difference": "60"}, "",
         "the indicators' points add up to 40, not 100",
         "各指标分值合计 40，不等于方案总分 100（相差 60）"),
        ("target.not_positive", {"value": "0"}, "指标 T",
         "must be greater than 0", "指标 T采用目标完成率，目标值必须大于 0"),
        ("floor.out_of_range", {"value": "1", "low": "0", "high": "1"}, "指标 F",
         "must be at least 0 and less than 1", "指标 F的保底比例 1 必须不小于 0 且小于 1"),
        ("grades.not_decreasing", {"name": "较好", "min": "90", "previous": "80"}, "",
         "must be less than the previous band's min 80 (bands go by strictly decreasing min)",
         "等次最低分必须严格递减：“较好”的 90 不小于上一等次的 80"),
        ("tie_method.unknown", {"value": "random", "choices": "competition, dense"}, "",
         "must be one of competition, dense",
         "并列排名方式“random”未知，可选：competition（竞争排名）、dense（中国式排名）"),
        ("grade_fractions.empty", {}, "指标 G", "must list at least one grade",
         "指标 G的等次系数不能为空（留空则用默认 A/优 1、B/良 0.85、C/中 0.7、D/差 0.5）"),
    ],
)  # fmt: skip
def test_literal_messages(code, params, owner, english, chinese_text):
    assert rules.english(code, params) == english
    assert chinese(code, params, owner=owner) == chinese_text


def test_the_engine_reports_codes_and_params():
    doc = good_document()
    indicators = doc["scheme"]["dimensions"][0]["indicators"]
    indicators[0]["points"] = Decimal("-1")
    indicators[1]["floor"] = Decimal("1.5")
    problems = validate(doc)
    assert [(p.path, p.code, p.params.get("value")) for p in problems] == [
        ("scheme.dimensions[0].indicators[0].points", "points.not_positive", "-1"),
        ("scheme.dimensions[0].indicators[1].floor", "floor.out_of_range", "1.5"),
    ]
    assert problems[0].message == "must be greater than 0"
    assert problems[0].as_dict() == {
        "path": "scheme.dimensions[0].indicators[0].points",
        "message": "must be greater than 0",
    }
    assert [engine_problem(p, doc) for p in problems] == [
        "指标 E01的分值 -1 必须大于 0",
        "指标 E02的保底比例 1.5 必须不小于 0 且小于 1",
    ]


def test_bounds_and_choices_come_from_the_table():
    assert rules.number_problem("points", Decimal("0.01")) is None
    assert rules.number_problem("points", Decimal("0.001"))[0] == "points.too_many_decimals"
    assert rules.number_problem("floor", Decimal("0.99")) is None
    assert rules.number_problem("floor", Decimal(1))[0] == "floor.out_of_range"
    assert rules.number_problem("grade_fraction", Decimal(1)) is None
    assert rules.number_problem("bonus_cap", Decimal(0)) is None
    assert rules.choice_problem("method", "grade") is None
    assert rules.METHODS["target"].needs == ("target",)
    assert list(scheme_models.METHODS) == list(rules.METHODS)


def test_defaults_are_stated_once():
    assert scheme_models.DEFAULT_GRADES == [
        {"name": "好", "min": "90"},
        {"name": "较好", "min": "80"},
        {"name": "一般", "min": "60"},
        {"name": "较差", "min": "0"},
    ]
    assert scheme_models.DEFAULT_GRADE_FRACTIONS == {
        "A": "1", "优": "1", "B": "0.85", "良": "0.85",
        "C": "0.7", "中": "0.7", "D": "0.5", "差": "0.5",
    }  # fmt: skip
    assert (rules.DEFAULT_TOTAL, rules.DEFAULT_BONUS_CAP, rules.DEFAULT_PENALTY_CAP) == (
        100, 5, None,
    )  # fmt: skip
    assert rules.DEFAULT_TIE_METHOD == "competition"
    assert Scheme.__table__.c.total.default.arg == rules.DEFAULT_TOTAL
    assert Scheme.__table__.c.tie_method.default.arg == rules.DEFAULT_TIE_METHOD


def test_an_engine_refusal_is_shown_in_chinese():
    doc = good_document()
    doc["values"] = [{"unit": "u1", "indicator": "R01", "value": 30}]
    with pytest.raises(InvalidInput) as refused:
        reading.compute(doc)
    assert refused.value.details == [
        {"path": "values[0].value", "message": "第 1 条数值的数值须在 0 到 20 分之间"}
    ]


def _scheme_with(app, *, dimension_code: str = "D1", grades=None) -> int:
    with app.app_context():
        fields = {"code": "W2027", "name": "待发布方案", "level": "town"}
        if grades is not None:
            fields["grades"] = grades
        scheme = records.create(SETUP, Scheme, fields)
        dimension = records.create(
            SETUP, Dimension, {"scheme": scheme, "code": dimension_code, "name": "维度"}
        )
        records.create(
            SETUP,
            Indicator,
            {"dimension": dimension, "code": "W1", "name": "指标", "points": Decimal(100)},
        )
        return scheme.id


def test_a_rule_only_the_engine_checked_reaches_the_service_in_chinese(app):
    # A dimension code of blanks passes the field rules (it is not empty) and used to be
    # caught only by the engine, in English: "scheme.dimensions[0].code must be a
    # non-empty string".
    scheme_id = _scheme_with(app, dimension_code="  ")
    with app.app_context():
        with pytest.raises(InvalidInput) as refused:
            schemes.publish_scheme(SETUP, db.session.get(Scheme, scheme_id))
        assert refused.value.details == ["第 1 个维度的代码不能为空"]
        assert "must" not in refused.value.message


def test_a_grade_band_out_of_range_reaches_the_admin_in_chinese(app, client, auth):
    grades = [{"name": "好", "min": "1e20"}, {"name": "较差", "min": "0"}]
    scheme_id = _scheme_with(app, grades=grades)
    with app.app_context():
        with pytest.raises(InvalidInput) as refused:
            schemes.publish_scheme(SETUP, db.session.get(Scheme, scheme_id))
        assert refused.value.details == ["等次“好”的最低分超出范围（整数部分最多 15 位）"]
    auth.login("admin")
    page = client.post(
        "/admin/scheme/action/",
        data={"action": "publish", "rowid": [str(scheme_id)]},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "等次“好”的最低分超出范围" in page
    assert "out of range" not in page and "评分引擎校验未通过" not in page


def test_one_converter_for_stored_and_unsaved_schemes(app):
    scheme_id = _scheme_with(app)
    with app.app_context():
        stored = db.session.get(Scheme, scheme_id)
        document = reading.scheme_document(stored)
        assert document["dimensions"] == [
            {
                "code": "D1",
                "name": "维度",
                "indicators": [
                    {
                        "code": "W1",
                        "name": "指标",
                        "points": Decimal(100),
                        "method": "direct",
                        "direction": "higher",
                        "target": None,
                        "floor": None,
                        "grade_fractions": None,
                    }
                ],
            }
        ]
        unsaved = Scheme(code="U", name="u", total=Decimal(100), grades=None)
        dimension = Dimension(scheme=unsaved, code="D1", name="维度")
        Indicator(
            scheme=unsaved, dimension=dimension, code="W1", name="指标",
            points=Decimal(100), method="direct", direction="higher",
        )  # fmt: skip
        assert reading.scheme_document(unsaved)["dimensions"] == document["dimensions"]
        db.session.expunge_all()
    assert not hasattr(schemes, "engine_scheme")


def test_a_bound_changed_in_the_table_changes_the_engine_the_services_and_both_wordings(
    monkeypatch,
):
    """docs/rules.md#where-a-rule-lives: a method's bound is one row of the table."""
    tighter = rules.Bound(low=Decimal(0), high=Decimal("0.9"), high_open=True,
                          code="floor.out_of_range")  # fmt: skip
    monkeypatch.setitem(rules.BOUNDS, "floor", tighter)
    doc = good_document()
    doc["scheme"]["dimensions"][0]["indicators"][1]["floor"] = Decimal("0.95")
    (problem,) = validate(doc)
    assert problem.message == "must be at least 0 and less than 0.9"
    assert engine_problem(problem, doc) == "指标 E02的保底比例 0.95 必须不小于 0 且小于 0.9"
    indicator = Indicator(code="E02", points=Decimal(20), method="relative", direction="higher",
                          floor=Decimal("0.95"))  # fmt: skip
    assert schemes.indicator_field_problems(indicator) == [
        "指标 E02的保底比例 0.95 必须不小于 0 且小于 0.9"
    ]
