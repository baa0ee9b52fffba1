"""Database constraints guard the invariants even against code that skips the services."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from models import Adjustment, Indicator, Period, Scheme, Score, Unit, Veto, db
from models.schemes import Dimension


@pytest.fixture
def base(ctx):
    town = Unit(code="445203100000", name="云路镇", level="town", kind="镇")
    scheme = Scheme(code="T1", name="镇街方案", level="town")
    db.session.add_all([town, scheme])
    db.session.flush()
    dim = Dimension(scheme=scheme, code="E", name="镇域经济发展")
    indicator = Indicator(
        scheme=scheme, dimension=dim, code="E01", name="增速", points=Decimal("40"),
        method="direct",
    )
    period = Period(
        code="2026Q3", name="2026年第三季度", start_date=date(2026, 7, 1),
        end_date=date(2026, 9, 30), town_scheme=scheme,
    )
    db.session.add_all([dim, indicator, period])
    db.session.commit()
    return town, indicator, period


def _refused(obj):
    db.session.add(obj)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_unit_code_must_have_12_digits(ctx):
    _refused(Unit(code="4452031", name="短码镇", level="town", kind="镇"))


def test_unit_code_is_unique(base):
    _refused(Unit(code="445203100000", name="重复镇", level="town", kind="镇"))


def test_only_villages_are_typical(ctx):
    _refused(Unit(code="445203200000", name="某镇", level="town", kind="镇", typical_batch=1))


def test_typical_batch_is_one_or_two(base):
    town = base[0]
    _refused(
        Unit(code="445203100201", name="新桃村", level="village", kind="村", parent_id=town.id,
             typical_batch=3)
    )


def test_indicator_points_positive(base):
    _, indicator, _ = base
    _refused(
        Indicator(scheme_id=indicator.scheme_id, dimension_id=indicator.dimension_id, code="E02",
                  name="零分", points=Decimal("0"), method="direct")
    )


def test_indicator_code_unique_in_scheme(base):
    _, indicator, _ = base
    _refused(
        Indicator(scheme_id=indicator.scheme_id, dimension_id=indicator.dimension_id, code="E01",
                  name="重复", points=Decimal("1"), method="direct")
    )


def test_target_method_needs_positive_target(base):
    _, indicator, _ = base
    _refused(
        Indicator(scheme_id=indicator.scheme_id, dimension_id=indicator.dimension_id, code="E03",
                  name="目标", points=Decimal("1"), method="target", target=Decimal("0"))
    )


def test_score_is_a_number_or_a_grade_not_both(base):
    town, indicator, period = base
    _refused(Score(period=period, indicator=indicator, unit=town, number=Decimal("1"), grade="A"))
    _refused(Score(period=period, indicator=indicator, unit=town))


def test_one_score_per_cell(base):
    town, indicator, period = base
    db.session.add(Score(period=period, indicator=indicator, unit=town, number=Decimal("1")))
    db.session.commit()
    _refused(Score(period=period, indicator=indicator, unit=town, number=Decimal("2")))


def test_adjustment_points_positive_and_reason_required(base):
    town, _, period = base
    _refused(Adjustment(period=period, unit=town, kind="bonus", points=Decimal("0"), reason="x"))
    _refused(Adjustment(period=period, unit=town, kind="bonus", points=Decimal("1"), reason=""))
    _refused(Adjustment(period=period, unit=town, kind="gift", points=Decimal("1"), reason="x"))


def test_one_veto_per_unit_and_period(base):
    town, _, period = base
    db.session.add(Veto(period=period, unit=town, reason="安全生产事故"))
    db.session.commit()
    _refused(Veto(period=period, unit=town, reason="又一次"))


def test_period_status_known_and_dates_ordered(base):
    _, indicator, period = base
    _refused(
        Period(code="X1", name="坏状态", start_date=date(2026, 1, 1), end_date=date(2026, 3, 31),
               town_scheme_id=indicator.scheme_id, status="locked")
    )
    _refused(
        Period(code="X2", name="倒序", start_date=date(2026, 3, 31), end_date=date(2026, 1, 1),
               town_scheme_id=indicator.scheme_id)
    )
