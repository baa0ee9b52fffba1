"""Weights for a scheme (docs/weights.md): AHP, entropy, CRITIC, points by largest
remainder, and ``python -m evaluation.scoring.weights``.

Published worked examples are reproduced to the decimals the source prints, and each is
checked a second time by a computation written out here, independent of the code under
test (plain Python floats and ``math``, no numpy).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.schemes.messages import chinese
from evaluation.scoring import ScoringError, rules
from evaluation.scoring.weights import ahp, critic, entropy, to_points

ROOT = Path(__file__).resolve().parent.parent

# Saaty, T. L. (1990). How to make a decision: the analytic hierarchy process. European
# Journal of Operational Research 48, 9–26 (the "best house" example, also in Saaty 1980):
# criteria 1 size of house, 2 transportation, 3 neighbourhood, 4 age, 5 yard space,
# 6 modern facilities, 7 general condition, 8 financing. The article prints the priority
# vector .173 .054 .188 .018 .031 .036 .167 .333, λmax = 9.669, C.I. = 0.238, C.R. = 0.169.
HOUSE = [
    [1, 5, 3, 7, 6, 6, "1/3", "1/4"],
    ["1/5", 1, "1/3", 5, 3, 3, "1/5", "1/7"],
    ["1/3", 3, 1, 6, 3, 4, 6, "1/5"],
    ["1/7", "1/5", "1/6", 1, "1/3", "1/4", "1/7", "1/8"],
    ["1/6", "1/3", "1/3", 3, 1, "1/2", "1/5", "1/6"],
    ["1/6", "1/3", "1/4", 4, 2, 1, "1/5", "1/6"],
    [3, 5, "1/6", 7, 5, 5, 1, "1/2"],
    [4, 7, 5, 8, 6, 6, 2, 1],
]
HOUSE_WEIGHTS = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]


def _value(entry) -> float:
    if isinstance(entry, str):
        top, bottom = entry.split("/")
        return int(top) / int(bottom)
    return float(entry)


def _power_iteration(matrix: list[list[float]], steps: int = 200) -> tuple[list[float], float]:
    """The principal eigenvector by repeated multiplication (Perron–Frobenius: it converges
    for a positive matrix), and λmax as the mean of (A w)_i / w_i."""
    n = len(matrix)
    w = [1 / n] * n
    for _ in range(steps):
        product = [sum(matrix[i][j] * w[j] for j in range(n)) for i in range(n)]
        w = [x / sum(product) for x in product]
    product = [sum(matrix[i][j] * w[j] for j in range(n)) for i in range(n)]
    return w, sum(product[i] / w[i] for i in range(n)) / n


def test_saaty_house_example_reproduces():
    result = ahp(HOUSE)
    assert [round(w, 3) for w in result.weights] == HOUSE_WEIGHTS
    assert round(result.lambda_max, 3) == 9.669
    assert round(result.ci, 3) == 0.238
    assert round(result.cr, 3) == 0.169
    assert result.consistent is False  # 0.169 > 0.10: Saaty asks for the judgements revised
    # Independently: power iteration, CI = (λ − 8)/7, CR = CI / 1.41.
    w, lam = _power_iteration([[_value(x) for x in row] for row in HOUSE])
    assert [round(x, 3) for x in w] == HOUSE_WEIGHTS
    assert round(lam, 3) == 9.669
    assert round((lam - 8) / 7, 3) == 0.238 and round((lam - 8) / 7 / 1.41, 3) == 0.169


def test_the_upper_triangle_is_enough_and_rounded_reciprocals_are_accepted():
    upper = [[x if j >= i else None for j, x in enumerate(row)] for i, row in enumerate(HOUSE)]
    assert ahp(upper).weights == pytest.approx(ahp(HOUSE).weights, abs=1e-12)
    # 1/3 written as 0.33 and 1/8 as 0.13: the entry ≥ 1 decides, the pair stays reciprocal.
    rounded = [[round(_value(x), 2) if _value(x) < 1 else x for x in row] for row in HOUSE]
    assert ahp(rounded).weights == pytest.approx(ahp(HOUSE).weights, abs=1e-12)


def test_three_by_three_closed_form():
    # For A = [[1, a, b], [1/a, 1, c], [1/b, 1/c, 1]] the principal eigenvalue is
    # 1 + t + 1/t with t = (a c / b)^(1/3), and the eigenvector is the row geometric means.
    a, b, c = 2, 6, 2
    result = ahp([[1, a, b], [None, 1, c], [None, None, 1]])
    t = (a * c / b) ** (1 / 3)
    lam = 1 + t + 1 / t
    assert result.lambda_max == pytest.approx(lam, abs=1e-9)
    assert result.cr == pytest.approx((lam - 3) / 2 / 0.58, abs=1e-9)
    means = [(a * b) ** (1 / 3), (c / a) ** (1 / 3), (1 / (b * c)) ** (1 / 3)]
    expected = [m / sum(means) for m in means]
    assert list(result.weights) == pytest.approx(expected, abs=1e-9)
    assert list(ahp([[1, a, b], [None, 1, c], [None, None, 1]], "geometric").weights) == (
        pytest.approx(expected, abs=1e-12)
    )


def test_a_consistent_matrix_gives_its_ratios_and_cr_zero():
    w = [4, 2, 1, 1]  # a_ij = w_i / w_j
    matrix = [[f"{w[i]}/{w[j]}" for j in range(4)] for i in range(4)]
    for method in ("eigenvector", "geometric"):
        result = ahp(matrix, method)
        assert list(result.weights) == pytest.approx([0.5, 0.25, 0.125, 0.125], abs=1e-12)
        assert result.lambda_max == pytest.approx(4, abs=1e-9)
        assert result.cr == pytest.approx(0, abs=1e-9) and result.consistent


def test_two_items_are_always_consistent():
    result = ahp([[1, 3], [None, 1]])
    assert list(result.weights) == pytest.approx([0.75, 0.25])
    assert result.cr == 0 and result.as_dict()["ri"] == 0


def _codes(call) -> list[tuple[str, str]]:
    with pytest.raises(ScoringError) as caught:
        call()
    return [(p.path, p.code) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("matrix", "expected"),
    [
        ([[1, 2], "1 2"], [("matrix[1]", "type.list")]),
        (
            [[1, 2, 3], [0.5, 1, 2]],
            [("matrix[0]", "ahp.not_square"), ("matrix[1]", "ahp.not_square")],
        ),
        ([[1, 2, 3], [0.5, 1], ["1/3", 1, 1]], [("matrix[1]", "ahp.not_square")]),
        ([[1]], [("matrix", "ahp.size")]),
        ([[1] * 16 for _ in range(16)], [("matrix", "ahp.size")]),
        ([[1, 0], [None, 1]], [("matrix[0][1]", "ahp.not_positive")]),
        ([[1, -3], [None, 1]], [("matrix[0][1]", "ahp.not_positive")]),
        ([[1, 12], [None, 1]], [("matrix[0][1]", "ahp.out_of_scale")]),
        ([[2, 3], [None, 1]], [("matrix[0][0]", "ahp.diagonal")]),
        ([[1, 3], [3, 1]], [("matrix[1][0]", "ahp.not_reciprocal")]),
        ([[1, 3], ["1/2", 1]], [("matrix[1][0]", "ahp.not_reciprocal")]),
        ([[1, "three"], [None, 1]], [("matrix[0][1]", "type.number")]),
        ([[1, "1/0"], [None, 1]], [("matrix[0][1]", "type.number")]),
        ([[1, None, 2], [None, 1, 2], [None, None, 1]], [("matrix[0][1]", "required")]),
        ("1 2 3", [("matrix", "type.list")]),
    ],
)
def test_bad_matrices(matrix, expected):
    assert _codes(lambda: ahp(matrix)) == expected


def test_an_unknown_method_is_refused():
    assert _codes(lambda: ahp([[1, 2], [None, 1]], "mean")) == [("method", "ahp.method_unknown")]


# --- entropy --------------------------------------------------------------------------------

# Xu, X. (2004). A note on the subjective and objective integrated approach to determine
# attribute weights. European Journal of Operational Research 156(2), 530–532: four
# alternatives, four benefit attributes; entropy weights 0.4630, 0.3992, 0.1378, 0.0000
# (as quoted by the crispyn library's tests, energyinpython/crispyn
# tests/test_weighting_methods.py).
XU = [[30, 30, 38, 29], [19, 54, 86, 29], [19, 15, 85, 28.9], [68, 70, 60, 29]]


def _entropy_by_hand(columns: list[list[float]]) -> list[float]:
    m = len(columns[0])
    d = []
    for column in columns:
        shares = [x / sum(column) for x in column]
        e = -sum(p * math.log(p) for p in shares if p > 0) / math.log(m)
        d.append(1 - e)
    return [x / sum(d) for x in d]


def test_xu_2004_entropy_example_reproduces():
    result = entropy(XU, ["higher"] * 4)
    assert [round(w, 4) for w in result.weights] == [0.4630, 0.3992, 0.1378, 0.0000]
    # By hand: column 1 sums to 136, so its shares are 30/136, 19/136, 19/136, 68/136 …
    by_hand = _entropy_by_hand([[30, 19, 19, 68], [30, 54, 15, 70], [38, 86, 85, 60],
                                [29, 29, 28.9, 29]])  # fmt: skip
    assert list(result.weights) == pytest.approx(by_hand, abs=1e-12)
    assert result.no_information == ()  # 28.9 differs: a little information, weight ≈ 0


def test_zavadskas_podvezko_2016_entropy_example_reproduces():
    # Zavadskas, E. K. & Podvezko, V. (2016). Integrated determination of objective criteria
    # weights in MCDM. IJITDM 15(2), 267–283: entropy weights 0.1146, 0.1981, 0.4185,
    # 0.2689 from the raw columns (as quoted by crispyn's tests, which pass no directions).
    values = [[3.0, 100, 10, 7], [2.5, 80, 8, 5], [1.8, 50, 20, 11], [2.2, 70, 12, 9]]
    result = entropy(values)
    assert [round(w, 4) for w in result.weights] == [0.1146, 0.1981, 0.4185, 0.2689]


def test_entropy_honours_lower_by_mirroring_the_column():
    # Where lower is better a column is mirrored within its range, x' = max + min − x:
    # 1, 2, 6 becomes 6, 5, 1 (shares 6/12, 5/12, 1/12); read as higher its shares are
    # 1/9, 2/9, 6/9. A 0 (none of a bad thing: the best) is fine.
    result = entropy([[1, 1], [2, 2], [6, 6]], ["higher", "lower"])
    by_hand = _entropy_by_hand([[1, 2, 6], [6, 5, 1]])
    assert list(result.weights) == pytest.approx(by_hand, abs=1e-12)
    assert result.weights[0] != pytest.approx(result.weights[1])
    assert entropy([[0, 1], [3, 2], [5, 4]], ["lower", "higher"]).weights[0] > 0


def test_an_all_equal_column_gets_weight_zero_said_plainly():
    result = entropy([[5, 1, 3], [5, 2, 3], [5, 4, 3]])
    assert result.weights[0] == 0 and result.weights[2] == 0 and result.weights[1] == 1
    assert result.no_information == (0, 2)
    shown = result.as_dict()
    assert shown["notes"] == [
        "column 1 has all values equal: it carries no information and gets weight 0",
        "column 3 has all values equal: it carries no information and gets weight 0",
    ]
    assert chinese("weights.no_information_column", {"column": 1}) == (
        "第 1 列数值全部相同，不含信息，权重为 0"
    )


@pytest.mark.parametrize(
    ("values", "directions", "expected"),
    [
        ([[1, 2]], None, [("values", "weights.too_few_rows")]),
        ([[1], [2]], None, [("values[0]", "weights.too_few_columns")]),
        ([[1, 2], [3]], None, [("values[1]", "weights.ragged")]),
        ([[1, -2], [3, 4]], None, [("values[0][1]", "weights.negative")]),
        ([[1, -2], [3, 4]], ["higher", "lower"], [("values[0][1]", "weights.negative")]),
        ([[1, 2], [3, 4]], ["higher"], [("directions", "weights.directions_length")]),
        ([[1, 2], [3, 4]], ["higher", "up"], [("directions[1]", "direction.unknown")]),
        (
            [[1, None], [3, "x"]],
            None,
            [("values[0][1]", "required"), ("values[1][1]", "type.number")],
        ),
        ([[1, 2], [1, 2]], None, [("values", "weights.no_information")]),
    ],
)
def test_bad_values_for_entropy(values, directions, expected):
    assert _codes(lambda: entropy(values, directions)) == expected


# --- CRITIC ---------------------------------------------------------------------------------


def test_tus_aytac_adali_2019_critic_example_reproduces():
    # Tuş, A. & Aytaç Adalı, E. (2019). The new combination with CRITIC and WASPAS methods
    # for the time and attendance software selection problem. OPSEARCH 56(2), 528–538:
    # CRITIC weights 0.157, 0.249, 0.168, 0.121, 0.154, 0.151 (as quoted by crispyn's tests,
    # which scale every column as a benefit column).
    values = [[5000, 3, 3, 4, 3, 2], [680, 5, 3, 2, 2, 1], [2000, 3, 2, 3, 4, 3],
              [600, 4, 3, 1, 2, 2], [800, 2, 4, 3, 3, 4]]  # fmt: skip
    result = critic(values)
    assert [round(w, 3) for w in result.weights] == [0.157, 0.249, 0.168, 0.121, 0.154, 0.151]


def test_critic_by_hand_with_a_lower_column():
    # Column A (0, 1, 2), higher: scaled 0, 1/2, 1; sample σ = 1/2.
    # Column B (3, 3, 0), lower: scaled (3 − x)/3 = 0, 0, 1; sample σ = √(1/3).
    # With two columns C_j = σ_j (1 − r), so w = σ / Σσ whatever r is.
    result = critic([[0, 3], [1, 3], [2, 0]], ["higher", "lower"])
    s_a, s_b = 0.5, math.sqrt(1 / 3)
    assert list(result.weights) == pytest.approx([s_a / (s_a + s_b), s_b / (s_a + s_b)])
    assert [round(w, 4) for w in result.weights] == [0.4641, 0.5359]
    # The same column read as higher is anti-correlated instead: it carries more conflict.
    three = critic([[0, 3, 1], [1, 3, 5], [2, 0, 2]], ["higher", "lower", "higher"])
    flipped = critic([[0, 3, 1], [1, 3, 5], [2, 0, 2]], ["higher", "higher", "higher"])
    assert three.weights != pytest.approx(flipped.weights)


def test_critic_constant_columns_and_one_varying_column():
    result = critic([[1, 5, 7], [2, 5, 7], [4, 5, 7]])
    assert result.weights == (1.0, 0.0, 0.0) and result.no_information == (1, 2)


def test_critic_needs_three_rows():
    assert _codes(lambda: critic([[1, 2], [3, 5]])) == [("values", "weights.too_few_rows")]


# --- points ---------------------------------------------------------------------------------


def test_house_weights_as_points_of_forty():
    # Quotas 40 × w: 6.9207 2.1590 7.5244 0.7003 1.2418 1.4529 6.6734 13.3276; floors in
    # cents add up to 3997, so the 3 cents left go to the largest remainders .90, .76, .44.
    points = to_points(ahp(HOUSE).weights, Decimal(40))
    assert [str(p) for p in points] == ["6.92", "2.16", "7.53", "0.70", "1.24", "1.45",
                                        "6.67", "13.33"]  # fmt: skip
    assert sum(points) == Decimal(40)


def test_equal_weights_give_the_extra_cent_to_the_earlier_item():
    assert [str(p) for p in to_points([1, 1, 1], Decimal(10))] == ["3.34", "3.33", "3.33"]


def test_points_refuse_a_bad_parent_or_no_weights():
    assert _codes(lambda: to_points([1, 2], Decimal("10.005"))) == [
        ("total", "points.too_many_decimals")
    ]
    assert _codes(lambda: to_points([0, 0], Decimal(10))) == [("weights", "weights.no_information")]


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=1,
                     max_size=15).filter(lambda w: sum(w) > 0),
    cents=st.integers(min_value=1, max_value=10_000_000),
)  # fmt: skip
def test_points_always_add_up_to_the_parent(weights, cents):
    parent = Decimal(cents) / 100
    points = to_points(weights, parent)
    assert sum(points) == parent
    total = sum(Decimal(repr(w)) for w in weights)
    for weight, share in zip(weights, points, strict=True):
        quota = Decimal(repr(weight)) * parent / total
        assert abs(share - quota) < Decimal("0.01")  # never a cent or more off its quota
        assert share == share.quantize(Decimal("0.01"))


# --- the rule table -------------------------------------------------------------------------


def test_weight_problems_are_worded_in_chinese():
    assert chinese("ahp.inconsistent", {"cr": "0.169", "limit": "0.10"}) == (
        "一致性比率 CR = 0.169，大于 0.10：请调整判断，或填写理由后仍予采用"
    )
    assert rules.english("ahp.size", {"n": 1, "minimum": 2, "maximum": 15}) == (
        "must have between 2 and 15 rows (has 1)"
    )


# --- command line ---------------------------------------------------------------------------


def run_weights(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evaluation.scoring.weights", *arguments],
        input=stdin, capture_output=True, text=True, cwd=ROOT, check=False, encoding="utf-8",
    )  # fmt: skip


def test_cli_ahp_from_a_file(tmp_path):
    path = tmp_path / "house.json"
    path.write_text(json.dumps({"matrix": HOUSE, "total": 40}), encoding="utf-8")
    done = run_weights("ahp", str(path))
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert [round(w, 3) for w in shown["weights"]] == HOUSE_WEIGHTS
    assert (round(shown["lambda_max"], 3), round(shown["ci"], 3), round(shown["cr"], 3)) == (
        9.669, 0.238, 0.169,
    )  # fmt: skip
    assert shown["consistent"] is False and shown["method"] == "eigenvector"
    assert shown["points"] == ["6.92", "2.16", "7.53", "0.70", "1.24", "1.45", "6.67", "13.33"]


def test_cli_entropy_and_critic_from_stdin():
    done = run_weights("entropy", stdin=json.dumps({"values": XU}))
    assert done.returncode == 0, done.stderr
    assert [round(w, 4) for w in json.loads(done.stdout)["weights"]] == [
        0.4630, 0.3992, 0.1378, 0.0000,
    ]  # fmt: skip
    document = {"values": [[0, 3], [1, 3], [2, 0]], "directions": ["higher", "lower"]}
    done = run_weights("critic", stdin=json.dumps(document))
    assert done.returncode == 0, done.stderr
    assert [round(w, 4) for w in json.loads(done.stdout)["weights"]] == [0.4641, 0.5359]


@pytest.mark.parametrize(
    ("kind", "stdin", "path", "fragment"),
    [
        ("ahp", '{"matrix": [[1, 3], [3, 1]]}', "matrix[1][0]", "reciprocal"),
        ("ahp", '{"matrix": [[1, 3, 2], [1, 1]]}', "matrix[0]", "square"),
        ("ahp", "{}", "matrix", "required"),
        ("ahp", "[1]", "", "object"),
        ("ahp", "{not json", "", "invalid JSON"),
        ("entropy", '{"values": [[1, 2]]}', "values", "at least 2 rows"),
        ("critic", '{"values": [[1, 2], [2, 3]]}', "values", "at least 3 rows"),
        ("entropy", '{"values": [[1, 2], [3, 4]], "total": "x"}', "total", "number"),
        ("topsis", '{"values": [[1, 2], [3, 4]]}', "kind", "not a weighting method"),
    ],
)
def test_cli_bad_input_exits_2_with_errors(kind, stdin, path, fragment):
    done = run_weights(kind, stdin=stdin)
    assert done.returncode == 2
    errors = json.loads(done.stdout)["errors"]
    assert errors[0]["path"] == path and fragment in errors[0]["message"]


def test_cli_unreadable_file_exits_2(tmp_path):
    done = run_weights("ahp", str(tmp_path / "missing.json"))
    assert done.returncode == 2
    assert json.loads(done.stdout)["errors"][0]["message"].startswith("cannot read")


@pytest.mark.parametrize(
    ("method", "first"),
    [(entropy, [1.0, 1.5, 0.5, 1.2]), (critic, [1.0, 1.5, -0.5, 1.2])],
)
def test_values_near_the_float_limit_weigh_as_their_scaled_down_copy(method, first):
    # Column 1 is 10 ** 308 times column 1 of the small table: its sum (entropy) or its
    # range (CRITIC) would overflow a float, yet its weights are the same (both methods
    # are blind to a column's scale).
    small = [[x, y] for x, y in zip(first, [1, 2, 3, 7], strict=True)]
    large = [[x * 10**308, y] for x, y in small]
    directions = ["higher", "lower"]
    expected = method(small, directions).weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        assert method(large, directions).weights == pytest.approx(expected, abs=1e-12)
    assert 0 < expected[0] < 1
