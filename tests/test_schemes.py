"""Scheme rules on every door (docs/rules.md#scoring): field checks, the freeze of a published
scheme,
publishing with every problem reported in Chinese, and copying to a new version."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation.core.writing import InvalidInput, StateError, SystemActor
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.schemes import operations as schemes
from models import Dimension, HistoryEvent, Indicator, Scheme, db
from tests.test_admin_views import build_base, publish

SETUP = SystemActor("test-setup")


@pytest.fixture
def base(app) -> dict[str, int]:
    return build_base(app)


def test_published_scheme_refuses_edits_through_the_service(app, base):
    publish(app, base["scheme"])
    with app.app_context():
        scheme = db.session.get(Scheme, base["scheme"])
        indicator = db.session.get(Indicator, base["indicator"])
        dimension = db.session.get(Dimension, base["dimension"])
        from evaluation.core.writing import StateError

        with pytest.raises(StateError, match="已发布"):
            records.update(SETUP, scheme, {"name": "改名"})
        with pytest.raises(StateError, match="已发布"):
            records.update(SETUP, indicator, {"points": Decimal("50")})
        with pytest.raises(StateError, match="已发布"):
            records.delete(SETUP, indicator)
        with pytest.raises(StateError, match="已发布"):
            records.create(
                SETUP,
                Indicator,
                {"dimension": dimension, "code": "I2", "name": "x", "points": Decimal(1)},
            )
        # Moving an indicator of a draft scheme into the published one is refused too.
        draft = records.create(SETUP, Scheme, {"code": "T2027", "name": "新方案"})
        draft_dimension = records.create(
            SETUP, Dimension, {"scheme": draft, "code": "D1", "name": "维度"}
        )
        loose = records.create(
            SETUP,
            Indicator,
            {"dimension": draft_dimension, "code": "X1", "name": "x", "points": Decimal(1)},
        )
        with pytest.raises(StateError, match="已发布"):
            records.update(
                SETUP, loose, {"dimension": db.session.get(Dimension, base["dimension"])}
            )
        with pytest.raises(StateError, match="已经发布"):
            schemes.publish_scheme(SETUP, db.session.get(Scheme, base["scheme"]))


def _broken_scheme(app) -> int:
    """A stored draft with problems the field rules cannot see one row at a time
    (and some that only a direct database write could leave behind)."""
    with app.app_context():
        scheme = Scheme(
            code="BAD",
            name="问题方案",
            level="town",
            total=Decimal("100"),
            tie_method="competition",
            grades=[{"name": "好", "min": "80"}, {"name": "较好", "min": "90"}],
        )
        first = Dimension(scheme=scheme, code="D1", name="一", order=1)
        Dimension(scheme=scheme, code="D2", name="空维度", order=2)
        Indicator(
            scheme=scheme,
            dimension=first,
            code="A",
            name="a",
            points=Decimal("30"),
            method="direct",
        )
        Indicator(
            scheme=scheme,
            dimension=first,
            code="T",
            name="t",
            points=Decimal("20"),
            method="relative",
            floor=Decimal("0.5"),
        )
        Indicator(
            scheme=scheme,
            dimension=first,
            code="G",
            name="g",
            points=Decimal("10"),
            method="grade",
            grade_fractions={"A": "1.5", "B": "x"},
        )
        db.session.add(scheme)
        db.session.commit()
        return scheme.id


def test_publish_reports_every_problem_in_chinese(app, client, auth):
    scheme_id = _broken_scheme(app)
    with app.app_context():
        from evaluation.core.writing import InvalidInput

        with pytest.raises(InvalidInput) as refused:
            schemes.publish_scheme(SETUP, db.session.get(Scheme, scheme_id))
        problems = refused.value.details
        text = "；".join(problems)
        assert "等次最低分必须严格递减" in text
        assert "维度 D2 空维度 还没有指标" in text
        assert "等次 A 系数 1.5 必须在 0 到 1 之间" in text
        assert "等次 B 系数“x”不是数字" in text
        assert "各指标分值合计 60，不等于方案总分 100" in text
        assert len(problems) == 5
        assert db.session.get(Scheme, scheme_id).status == "draft"
    auth.login("admin")
    page = client.post(
        "/admin/scheme/action/",
        data={"action": "publish", "rowid": [str(scheme_id)]},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "共 5 个问题" in page and "不等于方案总分 100" in page


def test_validate_scheme_names_every_rule_of_spec_4():
    """Every §4 rule on one in-memory scheme (some cannot even be stored)."""
    scheme = Scheme(
        code="X", name="x", level="town", total=Decimal("100"), tie_method="alphabetical", grades=[]
    )
    dimension = Dimension(scheme=scheme, code="D1", name="一", order=1)
    twin = Dimension(scheme=scheme, code="D1", name="重复", order=2)

    def add(dim, **fields):
        fields.setdefault("name", fields["code"])
        fields.setdefault("method", "direct")
        fields.setdefault("direction", "higher")
        return Indicator(scheme=scheme, dimension=dim, **fields)

    add(dimension, code="A", points=Decimal("0"))
    add(dimension, code="B", points=Decimal("10.125"))
    add(twin, code="B", points=Decimal("20"))
    add(twin, code="T", points=Decimal("20"), method="target", target=Decimal("0"))
    add(twin, code="F", points=Decimal("20"), method="relative", floor=Decimal("1"))
    add(twin, code="G", points=Decimal("20"), method="grade", grade_fractions={})
    add(twin, code="M", points=Decimal("5"), method="guess")
    from flask import Flask

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(app)
    with app.app_context():
        text = "\n".join(schemes.validate_scheme(scheme))
    for expected in (
        "并列排名方式“alphabetical”未知",
        "等次划分不能为空",
        "维度代码 D1 重复",
        "指标代码 B 重复",
        "指标 A的分值 0 必须大于 0",
        "指标 B的分值 10.125 最多两位小数",
        "指标 T采用目标完成率，目标值必须大于 0",
        "指标 F的保底比例 1 必须不小于 0 且小于 1",
        "指标 G的等次系数不能为空",
        "指标 M的计分方法“guess”未知",
        "各指标分值合计 95.125，不等于方案总分 100",
    ):
        assert expected in text, expected


def test_copy_refuses_a_taken_code(app, base):
    with app.app_context():
        from evaluation.core.writing import InvalidInput

        with pytest.raises(InvalidInput, match="已存在"):
            schemes.copy_scheme(SETUP, db.session.get(Scheme, base["scheme"]), "T2026")


def test_grade_text_round_trips():
    assert schemes.parse_grade_fractions("A=1, B=0.85；C：0.70") == {
        "A": "1",
        "B": "0.85",
        "C": "0.7",
    }
    assert schemes.parse_grade_fractions("  ") is None
    assert schemes.format_grade_fractions({"A": "1", "B": "0.85"}) == "A=1, B=0.85"
    assert schemes.parse_grade_bands("好=90，较差=0") == [
        {"name": "好", "min": "90"},
        {"name": "较差", "min": "0"},
    ]
    with pytest.raises(ValueError, match="缺少等号"):
        schemes.parse_grade_bands("好 90")
    with pytest.raises(ValueError, match="不是数字"):
        schemes.parse_grade_fractions("A=一")


def test_field_rules_refuse_bad_indicators_in_chinese_on_every_write(app, base):
    with app.app_context():
        dimension = db.session.get(Dimension, base["dimension"])
        with pytest.raises(InvalidInput) as refused:
            records.create(
                SETUP,
                Indicator,
                {
                    "dimension": dimension,
                    "code": "T9",
                    "name": "目标",
                    "points": Decimal("-1"),
                    "method": "target",
                },
            )
        assert refused.value.details == [
            "指标 T9的分值 -1 必须大于 0",
            "指标 T9采用目标完成率，目标值必须大于 0",
        ]
        with pytest.raises(InvalidInput, match="系数 2 必须在 0 到 1 之间"):
            records.create(
                SETUP,
                Indicator,
                {
                    "dimension": dimension,
                    "code": "G9",
                    "name": "等次",
                    "points": Decimal("1"),
                    "method": "grade",
                    "grade_fractions": {"A": "2"},
                },
            )
        scheme = db.session.get(Scheme, base["scheme"])
        with pytest.raises(InvalidInput, match="严格递减"):
            records.update(
                SETUP,
                scheme,
                {"grades": [{"name": "好", "min": "60"}, {"name": "差", "min": "60"}]},
            )
        with pytest.raises(InvalidInput, match="并列排名方式"):
            records.create(SETUP, Scheme, {"code": "Z", "name": "z", "tie_method": "random"})


def test_deletes_that_would_orphan_or_break_a_period_are_refused(app, base):
    with app.app_context():
        with pytest.raises(StateError, match="已被考核周期 2026Q3 使用"):
            records.delete(SETUP, db.session.get(Scheme, base["scheme"]))
        with pytest.raises(StateError, match="还有 1 个指标"):
            records.delete(SETUP, db.session.get(Dimension, base["dimension"]))
        draft = records.create(SETUP, Scheme, {"code": "EMPTY", "name": "空方案"})
        records.delete(SETUP, draft)
        assert db.session.scalar(db.select(Scheme).where(Scheme.code == "EMPTY")) is None


def test_a_draft_scheme_is_published_once_its_points_add_up(app, base):
    with app.app_context():
        dimension = db.session.get(Dimension, base["dimension"])
        records.create(
            SETUP,
            Indicator,
            {"dimension": dimension, "code": "I2", "name": "新增", "points": Decimal("5")},
        )
        with pytest.raises(InvalidInput, match="合计 105，不等于方案总分 100"):
            schemes.publish_scheme(SETUP, db.session.get(Scheme, base["scheme"]))
        indicator = db.session.get(Indicator, base["indicator"])
        records.update(SETUP, indicator, {"points": Decimal("95")})
        published = schemes.publish_scheme(SETUP, db.session.get(Scheme, base["scheme"]))
        assert published.status == "published"


def test_a_copy_carries_the_allowed_range_and_records_it(app, base):
    with app.app_context():
        indicator = db.session.get(Indicator, base["indicator"])
        records.update(
            SETUP,
            indicator,
            {"value_min": Decimal("0"), "value_max": Decimal("100"), "integer_only": True},
        )
        schemes.publish_scheme(SETUP, db.session.get(Scheme, base["scheme"]))
        copy = schemes.copy_scheme(SETUP, db.session.get(Scheme, base["scheme"]), "T2026-v2")
        (copied,) = copy.indicators
        assert (copied.value_min, copied.value_max, copied.integer_only) == (
            Decimal("0"), Decimal("100"), True,
        )
        event = history.event_dict(
            db.session.scalar(db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))
        )
        assert event["action"] == "scheme.copy"
        recorded = event["after"]["indicators"][0]
        assert Decimal(recorded["value_min"]) == 0 and Decimal(recorded["value_max"]) == 100
        assert recorded["integer_only"] is True


def test_range_rules_refuse_min_above_max_and_a_range_on_a_grade(app, base):
    with app.app_context():
        dimension = db.session.get(Dimension, base["dimension"])
        with pytest.raises(InvalidInput) as refused:
            records.create(
                SETUP,
                Indicator,
                {"dimension": dimension, "code": "R1", "name": "硬化率", "points": Decimal(1),
                 "method": "relative", "value_min": Decimal("100"), "value_max": Decimal("0")},
            )
        assert refused.value.details == ["指标 R1的允许最小值 100 大于允许最大值 0"]
        with pytest.raises(InvalidInput) as refused:
            records.create(
                SETUP,
                Indicator,
                {"dimension": dimension, "code": "R2", "name": "等次", "points": Decimal(1),
                 "method": "grade", "integer_only": True},
            )
        assert refused.value.details == [
            "指标 R2按等次评定，不设允许最小值、允许最大值和只允许整数"
        ]
