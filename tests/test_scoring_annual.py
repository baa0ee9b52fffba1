"""年度综合考评's pure rules (docs/annual.md), with answers worked by hand."""

from __future__ import annotations

from decimal import Decimal as D

from evaluation.scoring.annual import (
    apply_quotas,
    calibration_problems,
    combine,
    quota_limit,
    quota_problems,
    weight_problems,
)
from evaluation.scoring.validation import GradeBand

BANDS = [GradeBand("好", D(90)), GradeBand("较好", D(80)), GradeBand("一般", D(60)),
         GradeBand("较差", D(0))]  # fmt: skip


def test_weights_must_add_up_to_exactly_100():
    assert weight_problems([D(15), D(15), D(15), D(15), D(40)]) == []
    assert weight_problems([D("33.33"), D("33.33"), D("33.34")]) == []
    assert weight_problems([D("33.33"), D("33.33"), D("33.33")]) == [
        "weights add up to 99.99, not 100"
    ]
    assert weight_problems([D("50.001"), D("49.999")]) == [
        "weight 1 has more than two decimals", "weight 2 has more than two decimals"
    ]  # fmt: skip
    assert weight_problems([D(0), D(100)]) == ["weight 1 must be greater than 0"]
    assert weight_problems([]) == ["at least one source period is needed"]


def test_quota_limit_rounds_down_and_is_at_least_one():
    assert quota_limit(D(20), 13) == 2  # 2.6
    assert quota_limit(D(20), 15) == 3  # 3.0 exactly
    assert quota_limit(D(20), 4) == 1  # 0.8 → 0 → at least 1
    assert quota_limit(D("33.34"), 3) == 1  # 1.0002
    assert quota_limit(D(100), 7) == 7


def test_quotas_name_a_band_above_the_last_one():
    assert quota_problems({"好": D(20)}, BANDS) == []
    assert quota_problems({"较差": D(20), "优": D(5), "一般": D(0)}, BANDS) == [
        "the last band '较差' cannot have a quota",
        "quota for unknown band '优'",
        "quota of '一般' must be in (0, 100] with two decimals at most",
    ]


def _source(code, weight, totals, vetoed=()):
    return {
        "code": code,
        "weight": D(weight),
        "results": [{"unit": u, "total": t, "vetoed": u in vetoed} for u, t in totals.items()],
    }


def test_combine_weights_the_source_totals_and_rounds_once():
    units = [("A", "甲镇"), ("B", "乙镇"), ("C", "丙镇")]
    sources = [
        _source("Q1", 15, {"A": "80.00", "B": "90.00", "C": "85.55"}),
        _source("Q2", 15, {"A": "82.00", "B": "88.00", "C": "85.55"}),
        _source("Q3", 15, {"A": "84.00", "B": "86.00", "C": "85.55"}),
        _source("Q4", 15, {"A": "86.00", "B": "84.00", "C": "85.55"}),
        _source("Y", 40, {"A": "95.01", "B": "80.00", "C": "85.55"}),
    ]
    rows = combine(units, sources, BANDS, "competition")
    # A: (15×(80+82+84+86) + 40×95.01)/100 = (4980 + 3800.4)/100 = 87.804 → 87.80
    # B: (15×348 + 40×80)/100 = (5220 + 3200)/100 = 84.20
    # C: 85.55 everywhere → 85.55
    assert [(r["unit"], r["total"], r["rank"], r["grade"]) for r in rows] == [
        ("A", D("87.80"), 1, "较好"), ("C", D("85.55"), 2, "较好"), ("B", D("84.20"), 3, "较好"),
    ]  # fmt: skip
    assert rows[0]["parts"] == {"Q1": D(80), "Q2": D(82), "Q3": D(84), "Q4": D(86),
                                "Y": D("95.01")}  # fmt: skip


def test_combine_rounds_half_up_at_the_end_only():
    # 33.33 % of 90.01 + 66.67 % of 80.00 = (3000.0333 + 5333.6)/100 = 83.336333 → 83.34
    rows = combine(
        [("A", "甲")],
        [_source("P", "33.33", {"A": "90.01"}), _source("Q", "66.67", {"A": "80.00"})],
        BANDS,
        "competition",
    )
    assert rows[0]["total"] == D("83.34")


def test_a_veto_in_any_source_vetoes_the_year_and_a_missing_source_counts_zero():
    units = [("A", "甲"), ("B", "乙"), ("C", "丙")]
    sources = [
        _source("Q1", 50, {"A": "99.00", "B": "70.00", "C": "70.00"}, vetoed={"A"}),
        _source("Q2", 50, {"A": "99.00", "B": "70.00"}),
    ]
    rows = combine(units, sources, BANDS, "dense")
    # B 70.00 first; C (70 + 0)/2 = 35.00 second; A vetoed after all others, last band.
    assert [(r["unit"], r["total"], r["rank"], r["grade"], r["vetoed"], r["missing"])
            for r in rows] == [
        ("B", D("70.00"), 1, "一般", False, []),
        ("C", D("35.00"), 2, "较差", False, ["Q2"]),
        ("A", D("99.00"), 3, "较差", True, []),
    ]  # fmt: skip


def _ranked(totals):
    return combine([(u, u) for u in totals], [_source("Y", 100, totals)], BANDS, "competition")


def test_quota_keeps_the_best_ranks_and_lowers_the_rest_one_band():
    # 13 units, 好 at most 20 % → 2; ten qualify (99 … 90).
    totals = {f"U{i:02}": f"{99 - i}.00" for i in range(13)}  # 99, 98, 97, 96, 95, 94, ...
    rows = _ranked(totals)
    grades, notes = apply_quotas(rows, BANDS, {"好": D(20)})
    assert grades[:11] == ["好", "好"] + ["较好"] * 9  # 97 … 90 lowered; 89 already 较好
    assert grades[11:] == ["较好", "较好"]  # 88, 87
    assert notes == [{"band": "好", "limit": 2, "lowered": [2, 3, 4, 5, 6, 7, 8, 9], "tie": [],
                      "to": "较好"}]  # fmt: skip


def test_a_tie_across_the_boundary_goes_down_whole():
    totals = {"A": "95.00", "B": "93.00", "C": "93.00", "D": "91.00", "E": "85.00",
              "F": "70.00", "G": "70.00", "H": "65.00", "I": "60.00", "J": "50.00"}  # fmt: skip
    rows = _ranked(totals)
    # 10 units, 好 ≤ 20 % → 2: A fits; B and C tie at rank 2 and would make 3 → both down.
    grades, notes = apply_quotas(rows, BANDS, {"好": D(20)})
    assert dict(zip([r["unit"] for r in rows], grades, strict=True)) == {
        "A": "好", "B": "较好", "C": "较好", "D": "较好", "E": "较好",
        "F": "一般", "G": "一般", "H": "一般", "I": "一般", "J": "较差",
    }  # fmt: skip
    assert notes == [{"band": "好", "limit": 2, "lowered": [1, 2, 3], "tie": [1, 2], "to": "较好"}]


def test_quotas_cascade_down_the_bands():
    totals = {"A": "95.00", "B": "93.00", "C": "85.00", "D": "84.00", "E": "83.00"}
    rows = _ranked(totals)
    # 5 units: 好 ≤ 20 % → 1, 较好 ≤ 40 % → 2. B lowered to 较好 takes a 较好 place first.
    grades, notes = apply_quotas(rows, BANDS, {"好": D(20), "较好": D(40)})
    assert grades == ["好", "较好", "较好", "一般", "一般"]
    assert [(n["band"], n["lowered"]) for n in notes] == [("好", [1]), ("较好", [3, 4])]


def test_a_tie_at_rank_one_larger_than_the_quota_empties_the_band():
    rows = _ranked({"A": "95.00", "B": "95.00", "C": "80.00", "D": "70.00"})
    grades, notes = apply_quotas(rows, BANDS, {"好": D(25)})  # 4 × 25 % = 1
    assert grades == ["较好", "较好", "较好", "一般"]
    assert notes[0]["tie"] == [0, 1]


def test_no_quota_no_change():
    rows = _ranked({"A": "95.00", "B": "94.00"})
    assert apply_quotas(rows, BANDS, {}) == (["好", "好"], [])


def test_calibration_one_band_within_the_quotas():
    totals = {"A": "95.00", "B": "93.00", "C": "93.00", "D": "85.00", "E": "62.00"}
    rows = _ranked(totals)
    quotas = {"好": D(40)}  # 5 × 40 % → 2
    grades, _ = apply_quotas(rows, BANDS, quotas)
    assert grades == ["好", "较好", "较好", "较好", "一般"]
    # D up to 好: 好 would hold A and D = 2 ≤ 2: allowed.
    assert calibration_problems(rows, grades, grades, 3, "好", BANDS, quotas) == []
    after = list(grades)
    after[3] = "好"
    # then B up too: 3 > 2, refused.
    assert calibration_problems(rows, grades, after, 1, "好", BANDS, quotas) == [
        "band '好' would hold 3 units, its quota allows 2"
    ]
    # two bands at once: refused; E down to 较差 and up to 较好: allowed.
    assert calibration_problems(rows, grades, grades, 4, "好", BANDS, quotas) == [
        "a calibration moves one band up or down at most"
    ]
    assert calibration_problems(rows, grades, grades, 4, "较差", BANDS, quotas) == []
    assert calibration_problems(rows, grades, grades, 4, "较好", BANDS, quotas) == []
    assert calibration_problems(rows, grades, grades, 4, "优", BANDS, quotas) == [
        "unknown grade '优'"
    ]


def test_a_vetoed_unit_cannot_be_calibrated():
    rows = combine(
        [("A", "甲"), ("B", "乙")],
        [_source("Y", 100, {"A": "95.00", "B": "90.00"}, vetoed={"A"})],
        BANDS,
        "competition",
    )
    grades, _ = apply_quotas(rows, BANDS, {})
    assert calibration_problems(rows, grades, grades, 1, "一般", BANDS, {}) == [
        "a vetoed unit keeps the last band"
    ]


# --- properties: whatever the totals, ties and quotas ----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_totals = st.lists(st.integers(min_value=5000, max_value=10000), min_size=1, max_size=25)
_percents = st.dictionaries(
    st.sampled_from(["好", "较好", "一般"]),
    st.integers(min_value=1, max_value=10000).map(lambda n: D(n) / 100),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(_totals, _percents, st.sampled_from(["competition", "dense"]))
def test_quotas_hold_never_split_a_tie_and_keep_as_many_as_fit(cents, quotas, tie_method):
    # Totals drawn from few distinct values so ties are common.
    totals = {f"U{i:02}": f"{D(c // 250 * 250) / 100:.2f}" for i, c in enumerate(cents)}
    rows = combine([(u, u) for u in totals], [_source("Y", 100, totals)], BANDS, tie_method)
    grades, _ = apply_quotas(rows, BANDS, quotas)
    names = [b.name for b in BANDS]
    for i, row in enumerate(rows):
        # never up, at most as far down as there are quota bands
        assert names.index(grades[i]) >= names.index(row["grade"])
    for band, percent in quotas.items():
        assert sum(1 for g in grades if g == band) <= quota_limit(percent, len(rows))
    for i in range(len(rows)):
        for j in range(len(rows)):
            if rows[i]["rank"] == rows[j]["rank"]:
                assert grades[i] == grades[j]  # a tie group shares its grade
            if rows[i]["rank"] < rows[j]["rank"]:
                assert names.index(grades[i]) <= names.index(grades[j])  # order kept
    for band, percent in quotas.items():
        # As many as fit: the best-ranked tie group lowered out of this band would not fit.
        held = sum(1 for g in grades if g == band)
        position = names.index(band)
        out = [
            i
            for i in range(len(rows))
            if names.index(grades[i]) == position + 1 and names.index(rows[i]["grade"]) <= position
        ]
        if out:
            best = min(rows[i]["rank"] for i in out)
            group = sum(1 for i in out if rows[i]["rank"] == best)
            assert held + group > quota_limit(percent, len(rows))
