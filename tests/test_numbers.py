"""The one decimal formatter (evaluation/core/numbers.py) and the doors that use it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation.core import numbers


@pytest.mark.parametrize(
    ("value", "plain", "exact", "shown"),
    [
        ("6.500000", "6.5", "6.500000", "6.50"),
        ("1E+2", "100", "100", "100.00"),
        ("0.123400", "0.1234", "0.123400", "0.1234"),
        ("0.600000", "0.6", "0.600000", "0.60"),
        ("2.50", "2.5", "2.50", "2.50"),
        ("0", "0", "0", "0.00"),
        ("-3.000", "-3", "-3.000", "-3.00"),
    ],
)
def test_three_ways_to_write_a_decimal(value, plain, exact, shown):
    number = Decimal(value)
    assert numbers.plain(number) == plain
    assert numbers.exact(number) == exact
    assert numbers.shown(number) == shown


def test_plain_keeps_none():
    assert numbers.plain(None) is None


def test_every_door_uses_the_one_formatter():
    from evaluation.admin import base
    from evaluation.history import chain as history
    from evaluation.schemes import operations as schemes
    from evaluation.scores import entry_view, values
    from evaluation.scores import operations as ledger
    from models import types

    assert types.plain is numbers.plain
    assert entry_view.plain is ledger.plain is values.plain is numbers.plain
    assert schemes._plain is numbers.plain
    assert base.shown is numbers.shown and base.exact is numbers.exact
    # The history's before/after keep every stored digit: the chain hashes them.
    assert history.jsonable({"v": Decimal("6.500000")}) == {"v": "6.500000"}


def test_templates_have_plain(app):
    with app.app_context():
        template = app.jinja_env.from_string("{{ plain(value) }}%")
        assert template.render(value=Decimal("12.50")) == "12.5%"
