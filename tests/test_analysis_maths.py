"""The analysis maths: Wilson intervals, small-cell suppression, raking and margins files.

Suppression is checked by an attacker who sees only the published text (numbers,
``<k`` and ``x``) and solves linear programmes for the range of every hidden
figure: no hidden count other than 0 may be pinned to one value. The attacker
(tests/attacker.py, shared with the three-way tables' tests) is cross-checked
here against exhaustive enumeration on small tables and against tables known to leak.
"""

from __future__ import annotations

import itertools
import math
import pickle
import random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from statistics import NormalDist

import pytest

from polls.analysis import (
    COMPLEMENTARY_MARKER,
    HiddenBecause,
    Margins,
    MarginsFileError,
    SuppressedCounts,
    SuppressedTable,
    SuppressionError,
    display,
    effective_sample_size,
    load_margins,
    parse_margins,
    rake,
    rake_units,
    suppress_counts,
    suppress_table,
    weighted_shares,
    wilson_interval,
)
from polls.errors import OutreachError
from tests.attacker import Attacker, Published

# =========================================================================== Wilson intervals

# Newcombe RG (1998), "Two-sided confidence intervals for the single proportion:
# comparison of seven methods", Statistics in Medicine 17:857-872, Table II,
# method 3 (Wilson score interval without continuity correction), 95 %.
NEWCOMBE_1998 = [
    pytest.param(81, 263, (0.2553, 0.3662), id="81/263"),
    pytest.param(15, 148, (0.0624, 0.1605), id="15/148"),
    pytest.param(0, 20, (0.0000, 0.1611), id="0/20"),
    pytest.param(1, 29, (0.0061, 0.1718), id="1/29"),
]


@pytest.mark.parametrize(("successes", "n", "published"), NEWCOMBE_1998)
def test_wilson_matches_newcombe_1998(
    successes: int, n: int, published: tuple[float, float]
) -> None:
    lower, upper = wilson_interval(successes, n)
    assert (round(lower, 4), round(upper, 4)) == published


def _score_test_bounds(successes: float, n: float, confidence: float) -> tuple[float, float]:
    """Independently: the shares p whose score test (x - np)² <= z²·np(1-p) does not reject."""
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)

    def rejects(p: float) -> bool:
        return (successes - n * p) ** 2 > z * z * n * p * (1 - p)

    def boundary(inside: float, outside: float) -> float:
        for _ in range(200):
            middle = (inside + outside) / 2
            if rejects(middle):
                outside = middle
            else:
                inside = middle
        return (inside + outside) / 2

    share = successes / n
    lower = 0.0 if successes == 0 else boundary(share, 0.0)
    upper = 1.0 if successes == n else boundary(share, 1.0)
    return lower, upper


def test_wilson_agrees_with_the_score_test_it_inverts() -> None:
    generator = random.Random(20260101)
    for _ in range(500):
        n = generator.randint(1, 5000)
        successes = generator.randint(0, n)
        confidence = generator.choice([0.8, 0.9, 0.95, 0.99, 0.999])
        expected = _score_test_bounds(successes, n, confidence)
        assert wilson_interval(successes, n, confidence) == pytest.approx(expected, abs=1e-9)


def test_wilson_uses_the_exact_normal_quantile() -> None:
    # 1.959963984540054, not 1.96: the bounds differ in the 5th decimal for 81/263.
    z = 1.959963984540054
    n, share = 263, 81 / 263
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    assert wilson_interval(81, 263) == pytest.approx((centre - half, centre + half), abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 5, 20, 1000])
def test_wilson_edges_none_and_all(n: int) -> None:
    lower, upper = wilson_interval(0, n)
    assert lower == 0.0
    assert 0 < upper < 1
    assert wilson_interval(n, n) == pytest.approx((1 - upper, 1.0), abs=1e-12)
    assert wilson_interval(n, n)[1] == 1.0


def test_wilson_is_symmetric_and_narrows_with_confidence() -> None:
    for successes, n in [(3, 10), (81, 263), (1, 2)]:
        lower, upper = wilson_interval(successes, n)
        mirrored = wilson_interval(n - successes, n)
        assert mirrored == pytest.approx((1 - upper, 1 - lower), abs=1e-12)
        assert wilson_interval(successes, n, 0.99)[0] < lower
        assert wilson_interval(successes, n, 0.90)[0] > lower


def test_wilson_accepts_weighted_counts() -> None:
    assert wilson_interval(30.5, 86.96) == pytest.approx(_score_test_bounds(30.5, 86.96, 0.95))


def test_wilson_with_nobody_asked_is_the_whole_range() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("successes", "n", "confidence"),
    [(-1, 10, 0.95), (11, 10, 0.95), (1, -1, 0.95), (1, 10, 0.0), (1, 10, 1.0), (1, 10, 95)],
    ids=["negative", "more-than-n", "negative-n", "zero-confidence", "full-confidence", "percent"],
)
def test_wilson_rejects_impossible_arguments(successes: int, n: int, confidence: float) -> None:
    with pytest.raises(ValueError):
        wilson_interval(successes, n, confidence)


# =========================================================================== the attacker


def one_way_view(result: SuppressedCounts) -> tuple[Published, dict[str, int]]:
    texts = {f"cell {c}": f.text for c, f in result.cells.items()} | {"total": result.total.text}
    truth = {f"cell {c}": f.count for c, f in result.cells.items()} | {"total": result.total.count}
    return Published(texts, [("total", [f"cell {c}" for c in result.cells])], result.k), truth


def two_way_view(result: SuppressedTable) -> tuple[Published, dict[str, int]]:
    figures = {f"cell {r}/{c}": f for (r, c), f in result.cells.items()}
    figures |= {f"row {r}": f for r, f in result.row_totals.items()}
    figures |= {f"column {c}": f for c, f in result.column_totals.items()}
    figures["grand"] = result.grand_total
    lines = [(f"row {r}", [f"cell {r}/{c}" for c in result.columns]) for r in result.rows]
    lines += [(f"column {c}", [f"cell {r}/{c}" for r in result.rows]) for c in result.columns]
    lines.append(("grand", [f"row {r}" for r in result.rows]))
    lines.append(("grand", [f"column {c}" for c in result.columns]))
    texts = {name: figure.text for name, figure in figures.items()}
    return Published(texts, lines, result.k), {n: f.count for n, f in figures.items()}


def exhaustive_exposed(published: Published, truth: Mapping[str, int]) -> list[str]:
    """The same question by brute force: every table with the shown figures, within bounds."""
    hidden = published.hidden()
    parts = {p for _, line_parts in published.lines for p in line_parts}
    leaves = [name for name in hidden if name in parts and not name.startswith(("row", "col"))]
    # Another table, if there is one, also exists with every cell within 1 of the
    # true one (move one person round a cycle), so values up to the largest + 1 do.
    top = max((truth[name] for name in leaves), default=0) + 1
    domains = []
    for name in leaves:
        low, high = published.bounds(name)
        domains.append(range(int(low), int(min(high, top)) + 1))
    seen: dict[str, set[int]] = {name: set() for name in hidden}
    for values in itertools.product(*domains):
        table = {name: int(text) for name, text in published.texts.items() if text.isdigit()}
        table |= dict(zip(leaves, values, strict=True))
        # Totals follow from their parts; lines come in order parts-before-totals.
        consistent = True
        for total, line_parts in published.lines:
            if not all(p in table for p in line_parts):
                continue
            value = sum(table[p] for p in line_parts)
            if total in table:
                consistent = table[total] == value
            else:
                low, high = published.bounds(total)
                consistent = low <= value <= high
                table[total] = value
            if not consistent:
                break
        if consistent:
            for name in hidden:
                seen[name].add(table[name])
    assert all(truth[name] in seen[name] for name in hidden), "the true table was missed"
    return [name for name in hidden if truth[name] > 0 and seen[name] == {truth[name]}]


def _published_one_way(texts: Sequence[str], total: str, k: int = 5) -> Published:
    names = [f"cell {i}" for i in range(len(texts))]
    return Published(dict(zip(names, texts, strict=True)) | {"total": total}, [("total", names)], k)


def _random_count(generator: random.Random) -> int:
    kind = generator.random()
    if kind < 0.25:
        return 0
    if kind < 0.6:
        return generator.randint(1, 4)
    return generator.choice([5, 5, 6, generator.randint(5, 60)])


# --------------------------------------------------------------------------- the attacker works


def test_attacker_recovers_a_lone_hidden_cell() -> None:
    published = _published_one_way(["<5", "10", "12"], "25")
    truth = {"cell 0": 3, "cell 1": 10, "cell 2": 12, "total": 25}
    assert Attacker(published).exposed(truth) == ["cell 0"]


def test_attacker_ranges() -> None:
    # Two "<5" cells (1..4 each), an "x" cell (5 or more), 30, and an "x" total: the
    # total is at least 1 + 1 + 5 + 30, and the "x" cell can grow with it without limit.
    published = _published_one_way(["<5", "<5", "x", "30"], "x")
    attacker = Attacker(published)
    assert attacker.extreme("cell 0", largest=False) == pytest.approx(1)
    assert attacker.extreme("cell 0", largest=True) == pytest.approx(4)
    assert attacker.extreme("cell 2", largest=False) == pytest.approx(5)
    assert attacker.extreme("cell 2", largest=True) == math.inf
    assert attacker.extreme("total", largest=False) == pytest.approx(37)


def test_attacker_uses_what_the_markers_say() -> None:
    # 1 + 5 = 6: "<5" means 1..4 and "x" at least 5, so the pair can only be 1 and 5.
    published = _published_one_way(["<5", "x", "20"], "26")
    truth = {"cell 0": 1, "cell 1": 5, "cell 2": 20, "total": 26}
    assert Attacker(published).exposed(truth) == ["cell 0", "cell 1"]
    assert exhaustive_exposed(published, truth) == ["cell 0", "cell 1"]


def test_attacker_follows_a_chain_through_rows_and_columns() -> None:
    # Two closed blocks of hidden cells joined by one hidden cell (row 1, column 2):
    # every row and column has two or more hidden cells, yet the joining cell is
    # (rows 0+1 hidden) - (columns 0+1 hidden), known exactly.
    k = 5
    counts = [[2, 3, 20, 20], [3, 2, 4, 20], [20, 20, 2, 3], [20, 20, 3, 2]]
    hidden = {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)}
    texts: dict[str, str] = {}
    truth: dict[str, int] = {}
    for i, j in itertools.product(range(4), range(4)):
        truth[f"cell {i}/{j}"] = counts[i][j]
        texts[f"cell {i}/{j}"] = "<5" if (i, j) in hidden else str(counts[i][j])
    for i in range(4):
        truth[f"row {i}"] = sum(counts[i])
        truth[f"column {i}"] = sum(row[i] for row in counts)
    truth["grand"] = sum(map(sum, counts))
    texts |= {name: str(truth[name]) for name in truth if not name.startswith("cell")}
    lines = [(f"row {i}", [f"cell {i}/{j}" for j in range(4)]) for i in range(4)]
    lines += [(f"column {j}", [f"cell {i}/{j}" for i in range(4)]) for j in range(4)]
    lines += [
        ("grand", [f"row {i}" for i in range(4)]),
        ("grand", [f"column {j}" for j in range(4)]),
    ]
    assert Attacker(Published(texts, lines, k)).exposed(truth) == ["cell 1/2"]

    # The same table through suppress_table is safe.
    table = {f"r{i}": {f"c{j}": counts[i][j] for j in range(4)} for i in range(4)}
    result = suppress_table(table, k=k)
    view, truth = two_way_view(result)
    assert Attacker(view).exposed(truth) == []
    assert result.cells["r1", "c2"].hidden_because is HiddenBecause.SMALL
    assert any(f.hidden_because is HiddenBecause.COMPLEMENTARY for f in result.cells.values())


def test_attacker_agrees_with_exhaustive_search_on_random_hiding() -> None:
    """Random (often leaky) hiding patterns on small tables: LP and brute force agree."""
    generator = random.Random(7)
    leaks = 0
    for _ in range(200):
        rows, columns = generator.choice([(1, 3), (2, 2), (2, 3)])
        counts = [[generator.randint(0, 9) for _ in range(columns)] for _ in range(rows)]
        result = suppress_table(
            {f"r{i}": {f"c{j}": counts[i][j] for j in range(columns)} for i in range(rows)}
        )
        view, truth = two_way_view(result)
        # Hide some figures at random instead, with honest markers.
        for name in view.texts:
            if generator.random() < 0.4 and truth[name] > 0:
                view.texts[name] = "<5" if truth[name] < 5 else COMPLEMENTARY_MARKER
        for _ in range(2):  # keep the "<5" total rule honest: its parts are hidden too
            for total, parts in view.lines:
                if view.texts[total] == "<5":
                    for part in parts:
                        view.texts[part] = "<5"
        lp = Attacker(view).exposed(truth)
        assert lp == exhaustive_exposed(view, truth), (counts, view.texts)
        leaks += bool(lp)
    assert 20 <= leaks <= 180  # the comparison saw leaky tables and safe ones


# =========================================================================== suppression


def test_display() -> None:
    assert display(7, True) == "7"
    assert display(0, True) == "0"
    assert display(3, False) == "<5"
    assert display(0, False, 10) == "<10"
    assert display(12, False) == COMPLEMENTARY_MARKER == "x"


def test_nothing_small_nothing_hidden() -> None:
    result = suppress_counts({"yes": 12, "no": 0, "unsure": 5})
    assert result.hidden_figures == 0
    assert [f.text for f in result.cells.values()] == ["12", "0", "5"]
    assert result.total.text == "17"


def test_one_small_cell_takes_the_smallest_usable_complement() -> None:
    result = suppress_counts({"a": 3, "b": 0, "c": 10, "d": 12})
    assert {c: f.text for c, f in result.cells.items()} == {
        "a": "<5",
        "b": "0",
        "c": "x",
        "d": "12",
    }
    assert result.cells["a"].hidden_because is HiddenBecause.SMALL
    assert result.cells["c"].hidden_because is HiddenBecause.COMPLEMENTARY
    assert result.total.shown


def test_a_complement_of_exactly_k_is_not_enough() -> None:
    # Hiding 1 and 5 of a total 56 would read "<5" + "x" = 6: only 1 + 5 fits.
    result = suppress_counts({"a": 1, "b": 5, "c": 20, "d": 30})
    assert {c: f.text for c, f in result.cells.items()} == {
        "a": "<5",
        "b": "5",
        "c": "x",
        "d": "30",
    }


def test_two_small_cells_protect_each_other() -> None:
    result = suppress_counts({"a": 2, "b": 3, "c": 20, "d": 30})
    assert [f.hidden_because for f in result.cells.values()] == [
        HiddenBecause.SMALL,
        HiddenBecause.SMALL,
        None,
        None,
    ]


def test_the_total_is_hidden_when_nothing_else_protects() -> None:
    result = suppress_counts({"a": 1, "b": 5})
    assert [f.text for f in result.cells.values()] == ["<5", "5"]
    assert result.total.text == "x"
    assert result.total.hidden_because is HiddenBecause.COMPLEMENTARY


def test_a_small_total_hides_everything() -> None:
    result = suppress_counts({"a": 3, "b": 0, "c": 1})
    assert [f.text for f in result.cells.values()] == ["<5", "<5", "<5"]
    assert result.total.text == "<5"
    assert {f.hidden_because for f in result.cells.values()} == {HiddenBecause.SMALL}


def test_two_way_single_small_cell_needs_a_rectangle() -> None:
    result = suppress_table(
        {
            "Baku": {"yes": 30, "no": 20, "unsure": 10},
            "Ganja": {"yes": 12, "no": 3, "unsure": 9},
            "Shaki": {"yes": 8, "no": 15, "unsure": 7},
        }
    )
    hidden = {cell for cell, f in result.cells.items() if not f.shown}
    assert ("Ganja", "no") in hidden
    assert len(hidden) == 4  # the smallest rectangle through the small cell
    rows = {r for r, _ in hidden}
    columns = {c for _, c in hidden}
    assert len(rows) == len(columns) == 2
    assert all(f.shown for f in result.row_totals.values())
    assert all(f.shown for f in result.column_totals.values())
    view, truth = two_way_view(result)
    assert Attacker(view).exposed(truth) == []


def test_two_way_small_row_is_hidden_whole_and_protected() -> None:
    result = suppress_table(
        {
            "Baku": {"yes": 30, "no": 20, "unsure": 10},
            "Nakhchivan": {"yes": 3, "no": 0, "unsure": 0},
            "Shaki": {"yes": 8, "no": 15, "unsure": 7},
        }
    )
    assert [result.cells["Nakhchivan", c].text for c in result.columns] == ["<5"] * 3
    assert result.row_totals["Nakhchivan"].text == "<5"
    assert result.row_totals["Nakhchivan"].hidden_because is HiddenBecause.SMALL
    # Another row total must go too, or the grand total minus the others gives 3.
    assert sum(not f.shown for f in result.row_totals.values()) >= 2
    view, truth = two_way_view(result)
    assert Attacker(view).exposed(truth) == []


def test_two_way_small_grand_total_hides_everything() -> None:
    result = suppress_table({"a": {"x": 1, "y": 0}, "b": {"x": 2, "y": 1}})
    assert result.hidden_figures == 4 + 2 + 2 + 1
    assert {f.hidden_because for f in result.cells.values()} == {HiddenBecause.SMALL}


def test_two_way_columns_fix_order_and_zeros() -> None:
    result = suppress_table({"a": {"y": 7}, "b": {"x": 9}}, columns=["x", "y", "z"])
    assert result.columns == ("x", "y", "z")
    assert result.cells["a", "z"].text == "0"
    assert result.column_totals["z"].text == "0"
    with pytest.raises(ValueError, match="'w'"):
        suppress_table({"a": {"w": 7}}, columns=["x"])


@pytest.mark.parametrize("bad", [-1, 2.5, True], ids=["negative", "fraction", "bool"])
def test_counts_must_be_whole_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        suppress_counts({"a": bad})  # type: ignore[dict-item]


def test_k_below_3_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        suppress_counts({"a": 1, "b": 9}, k=2)


def test_empty_tables() -> None:
    assert suppress_counts({}).total.text == "0"
    assert suppress_table({}).grand_total.text == "0"
    assert suppress_table({"a": {}}).row_totals["a"].text == "0"


def _check_suppression_rules(figures: Sequence[tuple[object, int, str, object]], k: int) -> None:
    """Honest markers; complements never zero and never below k."""
    for name, count, text, because in figures:
        if because is None:
            assert text == str(count), name
        else:
            assert text == (f"<{k}" if count < k else COMPLEMENTARY_MARKER), name
        if because is HiddenBecause.COMPLEMENTARY:
            assert count >= k, name
        if 0 < count < k:
            assert because is HiddenBecause.SMALL, name


def test_random_one_way_tables_cannot_be_undone() -> None:
    generator = random.Random(2026)
    for _ in range(300):
        k = generator.choice([3, 5, 5, 10])
        counts = {f"c{i}": _random_count(generator) for i in range(generator.randint(1, 8))}
        result = suppress_counts(counts, k=k)
        figures = [(c, f.count, f.text, f.hidden_because) for c, f in result.cells.items()]
        figures.append(
            ("total", result.total.count, result.total.text, result.total.hidden_because)
        )
        _check_suppression_rules(figures, k)
        if 0 < result.total.count < k:
            assert result.hidden_figures == len(counts) + 1
        view, truth = one_way_view(result)
        assert Attacker(view).exposed(truth) == [], counts
        assert suppress_counts(counts, k=k) == result  # deterministic


def test_random_two_way_tables_cannot_be_undone() -> None:
    generator = random.Random(4242)
    complements = 0
    for _ in range(300):
        k = generator.choice([3, 5, 5, 5, 10])
        rows, columns = generator.randint(1, 7), generator.randint(1, 7)
        table = {
            f"r{i}": {f"c{j}": _random_count(generator) for j in range(columns)}
            for i in range(rows)
        }
        result = suppress_table(table, k=k)
        figures = [(cell, f.count, f.text, f.hidden_because) for cell, f in result.cells.items()]
        for name, totals in [("row", result.row_totals), ("column", result.column_totals)]:
            figures += [((name, t), f.count, f.text, f.hidden_because) for t, f in totals.items()]
        grand = result.grand_total
        figures.append(("grand", grand.count, grand.text, grand.hidden_because))
        _check_suppression_rules(figures, k)
        for (row, column), figure in result.cells.items():
            small_line = (
                0 < result.row_totals[row].count < k or 0 < result.column_totals[column].count < k
            )
            if small_line:
                assert figure.hidden_because is HiddenBecause.SMALL
        complements += sum(f[3] is HiddenBecause.COMPLEMENTARY for f in figures)
        view, truth = two_way_view(result)
        assert Attacker(view).exposed(truth) == [], table
    assert complements > 300  # the runs exercised complementary suppression


def test_random_small_tables_against_exhaustive_search() -> None:
    generator = random.Random(99)
    for _ in range(40):
        rows, columns = generator.choice([(1, 2), (2, 2), (2, 3)])
        table = {
            f"r{i}": {f"c{j}": generator.choice([0, 1, 2, 3, 4, 5, 6, 9]) for j in range(columns)}
            for i in range(rows)
        }
        view, truth = two_way_view(suppress_table(table))
        assert exhaustive_exposed(view, truth) == [], table


def test_suppression_is_fast_on_a_large_table() -> None:
    generator = random.Random(1)
    regions = [f"region {i}" for i in range(14)]
    answers = [f"answer {j}" for j in range(11)]
    table = {r: {a: _random_count(generator) for a in answers} for r in regions}
    started = time.perf_counter()
    result = suppress_table(table)
    assert time.perf_counter() - started < 2.0
    view, truth = two_way_view(result)
    assert Attacker(view).exposed(truth) == []


# =========================================================================== raking

# A hand-computed 2 x 2 example. Respondents (100):
#                young  old
#     north        30    20   (50)
#     south        10    40   (50)
#                 (40)  (60)
# Targets: region north 0.4 / south 0.6, age young 0.5 / old 0.5, i.e. for 100
# weighted respondents rows 40 / 60 and columns 50 / 50.
# Raking keeps the cross-product ratio (30·40)/(20·10) = 6 of the sample, so
# the fitted table is [[x, 40-x], [50-x, 10+x]] with x(10+x) = 6(40-x)(50-x),
# i.e. x² - 110x + 2400 = 0, x = 30 (the root 80 exceeds the row total 40):
#                young  old
#     north        30    10   (40)
#     south        20    40   (60)
#                 (50)  (50)
# The weight of a respondent is fitted / observed: 30/30 = 1, 10/20 = 0.5,
# 20/10 = 2, 40/40 = 1; their mean over the 100 respondents is 100/100 = 1.
# Kish: (Σw)² / Σw² = 100² / (30·1 + 20·0.25 + 10·4 + 40·1) = 10000/115.
HAND_CELLS = {
    ("north", "young"): 30,
    ("north", "old"): 20,
    ("south", "young"): 10,
    ("south", "old"): 40,
}
HAND_MARGINS = Margins(
    {"region": {"north": 0.4, "south": 0.6}, "age_band": {"young": 0.5, "old": 0.5}}
)
HAND_WEIGHTS = {
    ("north", "young"): 1.0,
    ("north", "old"): 0.5,
    ("south", "young"): 2.0,
    ("south", "old"): 1.0,
}


def _weighted_margin(
    cells: Mapping[tuple[str | None, ...], int],
    weights: Mapping[tuple[str | None, ...], float],
    position: int,
) -> dict[str | None, float]:
    totals: dict[str | None, float] = {}
    for cell, count in cells.items():
        totals[cell[position]] = totals.get(cell[position], 0.0) + count * weights[cell]
    known = sum(v for c, v in totals.items() if c is not None)
    return {c: v / known for c, v in totals.items() if c is not None}


def test_rake_matches_the_hand_computed_example() -> None:
    result = rake(HAND_CELLS, HAND_MARGINS, dimensions=("region", "age_band"), tolerance=1e-12)
    assert result.converged
    for cell, weight in HAND_WEIGHTS.items():
        assert result.weights[cell] == pytest.approx(weight, abs=1e-6)
    assert _weighted_margin(HAND_CELLS, result.weights, 0) == pytest.approx(
        {"north": 0.4, "south": 0.6}, abs=1e-9
    )
    assert _weighted_margin(HAND_CELLS, result.weights, 1) == pytest.approx(
        {"young": 0.5, "old": 0.5}, abs=1e-9
    )
    mean = sum(HAND_CELLS[c] * w for c, w in result.weights.items()) / 100
    assert mean == pytest.approx(1.0, abs=1e-12)
    assert result.effective_sample_size == pytest.approx(10000 / 115, abs=1e-4)


def test_rake_with_default_tolerance_stops_within_it() -> None:
    result = rake(HAND_CELLS, HAND_MARGINS, dimensions=("region", "age_band"))
    assert result.converged
    assert result.max_error <= 1e-6
    assert 1 < result.iterations < 100
    for cell, weight in HAND_WEIGHTS.items():
        assert result.weights[cell] == pytest.approx(weight, abs=1e-5)


def test_rake_units_gives_the_same_weights_per_respondent() -> None:
    units = [
        {"region": region, "age_band": age}
        for (region, age), count in HAND_CELLS.items()
        for _ in range(count)
    ]
    weights, result = rake_units(units, HAND_MARGINS, tolerance=1e-12)
    assert len(weights) == 100
    assert weights[0] == pytest.approx(1.0, abs=1e-6)  # north, young
    assert weights[30] == pytest.approx(0.5, abs=1e-6)  # north, old
    assert sum(weights) / len(weights) == pytest.approx(1.0)
    assert effective_sample_size(weights) == pytest.approx(result.effective_sample_size)


def test_a_matching_sample_needs_no_iteration() -> None:
    cells = {("a", "m"): 25, ("a", "f"): 25, ("b", "m"): 25, ("b", "f"): 25}
    margins = Margins({"region": {"a": 0.5, "b": 0.5}, "gender": {"m": 0.5, "f": 0.5}})
    result = rake(cells, margins, dimensions=("region", "gender"))
    assert result.converged
    assert result.iterations == 0
    assert set(result.weights.values()) == {1.0}
    assert result.effective_sample_size == 100


def test_rake_reports_when_the_sample_cannot_match() -> None:
    # Every man is in region A and every woman in B: A must be 50 % and men 70 %.
    cells = {("A", "m"): 10, ("B", "f"): 10}
    margins = Margins({"region": {"A": 0.5, "B": 0.5}, "gender": {"m": 0.7, "f": 0.3}})
    result = rake(cells, margins, dimensions=("region", "gender"), max_iterations=25)
    assert not result.converged
    assert result.iterations == 25
    assert result.max_error == pytest.approx(0.2)
    mean = sum(cells[c] * w for c, w in result.weights.items()) / 20
    assert mean == pytest.approx(1.0)


def test_rake_converges_on_three_dimensions() -> None:
    generator = random.Random(3)
    regions, ages, genders = (
        ["Baku", "Ganja", "Shaki", "Lankaran"],
        ["18-24", "25-44", "45+"],
        ["f", "m"],
    )
    cells = {cell: generator.randint(1, 200) for cell in itertools.product(regions, ages, genders)}
    margins = Margins(
        {
            "region": {"Baku": 0.4, "Ganja": 0.25, "Shaki": 0.2, "Lankaran": 0.15},
            "age_band": {"18-24": 0.2, "25-44": 0.45, "45+": 0.35},
            "gender": {"f": 0.52, "m": 0.48},
        }
    )
    dimensions = ("region", "age_band", "gender")
    result = rake(cells, margins, dimensions=dimensions)
    assert result.converged
    for position, dimension in enumerate(dimensions):
        assert _weighted_margin(cells, result.weights, position) == pytest.approx(
            margins.shares[dimension], abs=1e-6
        )
    n = sum(cells.values())
    assert 0 < result.effective_sample_size < n


def test_missing_values_are_not_adjusted_on_that_dimension() -> None:
    cells = {("north", "f"): 30, ("north", "m"): 10, ("south", "f"): 20, ("south", None): 40}
    margins = Margins({"region": {"north": 0.5, "south": 0.5}, "gender": {"f": 0.5, "m": 0.5}})
    result = rake(cells, margins, dimensions=("region", "gender"), tolerance=1e-10)
    assert result.converged
    assert result.missing_values == {"gender": 40}
    assert _weighted_margin(cells, result.weights, 0) == pytest.approx({"north": 0.5, "south": 0.5})
    # Among those who gave a gender, the shares match the targets.
    assert _weighted_margin(cells, result.weights, 1) == pytest.approx({"f": 0.5, "m": 0.5})
    assert sum(cells[c] * w for c, w in result.weights.items()) == pytest.approx(100)


def test_unknown_and_empty_categories_are_reported() -> None:
    cells = {("Baku",): 60, ("Ganja",): 30, ("Atlantis",): 10}
    margins = Margins({"region": {"Baku": 0.5, "Ganja": 0.25, "Shaki": 0.25}})
    result = rake(cells, margins, dimensions=("region",))
    assert result.unknown_categories == {"region": {"Atlantis": 10}}
    assert result.empty_categories == {"region": ["Shaki"]}
    # Baku and Ganja keep their 2:1 ratio of targets among known regions.
    assert result.converged
    baku = 60 * result.weights[("Baku",)]
    ganja = 30 * result.weights[("Ganja",)]
    assert baku / ganja == pytest.approx(2.0)
    assert result.weights[("Atlantis",)] > 0


def test_rake_refuses_what_it_cannot_use() -> None:
    with pytest.raises(ValueError, match="no 'language'"):
        rake(HAND_CELLS, HAND_MARGINS, dimensions=("region", "language"))
    with pytest.raises(ValueError, match="categories"):
        rake({("north",): 3}, HAND_MARGINS, dimensions=("region", "age_band"))
    with pytest.raises(ValueError, match="no respondents"):
        rake({}, HAND_MARGINS, dimensions=("region",))


def test_a_million_respondents_are_a_few_hundred_cells() -> None:
    generator = random.Random(11)
    regions = [f"region {i}" for i in range(14)]
    ages = ["15-17", "18-24", "25-34", "35-44", "45-59", "60+"]
    genders = ["female", "male"]
    keys = list(itertools.product(regions, ages, genders))
    raw = [generator.random() ** 2 + 0.01 for _ in keys]
    cells = {key: round(1_000_000 * r / sum(raw)) for key, r in zip(keys, raw, strict=True)}
    margins = Margins(
        {
            "region": {r: 1 / 14 for r in regions},
            "age_band": dict(zip(ages, [0.08, 0.17, 0.22, 0.2, 0.2, 0.13], strict=True)),
            "gender": {"female": 0.51, "male": 0.49},
        }
    )
    started = time.perf_counter()
    result = rake(cells, margins, dimensions=("region", "age_band", "gender"))
    assert time.perf_counter() - started < 1.0
    assert result.converged
    n = sum(cells.values())
    assert sum(cells[c] * w for c, w in result.weights.items()) == pytest.approx(n)


def test_effective_sample_size() -> None:
    assert effective_sample_size([1.0] * 10) == 10
    assert effective_sample_size([1.0, 0.5, 2.0, 1.0], [30, 20, 10, 40]) == pytest.approx(
        10000 / 115
    )
    assert effective_sample_size([2.0, 0.0]) == 1
    assert effective_sample_size([]) == 0.0
    with pytest.raises(ValueError):
        effective_sample_size([1.0, 2.0], [1])


def test_weighted_shares() -> None:
    # Hand example weights: north-young 1, north-old 0.5, south-young 2, south-old 1.
    answers = {
        ("north", "young"): {"yes": 20, "no": 10},
        ("north", "old"): {"yes": 10, "no": 10},
        ("south", "young"): {"yes": 5, "no": 5},
        ("south", "old"): {"no": 40},
    }
    # yes: 20 + 5 + 10 = 35, no: 10 + 5 + 10 + 40 = 65, of 100 weighted answers.
    shares = weighted_shares(answers, HAND_WEIGHTS, categories=["yes", "no", "unsure"])
    assert shares == pytest.approx({"yes": 0.35, "no": 0.65, "unsure": 0.0})
    assert list(shares) == ["yes", "no", "unsure"]
    # Multiple choice: shares of the (weighted) respondents who answered.
    picks = {("north", "young"): {"water": 30, "roads": 15}}
    assert weighted_shares(picks, HAND_WEIGHTS, answered={("north", "young"): 30}) == {
        "water": 1.0,
        "roads": 0.5,
    }
    with pytest.raises(ValueError, match="no weight"):
        weighted_shares({("east", "young"): {"yes": 1}}, HAND_WEIGHTS)
    with pytest.raises(ValueError, match="'maybe'"):
        weighted_shares({("north", "old"): {"maybe": 1}}, HAND_WEIGHTS, categories=["yes"])


# =========================================================================== margins files

GOOD_MARGINS = """dimension,category,share
region,Baku,0.24
region,Absheron-Khizi,0.06
region,Other,0.70

age_band,15-24,20%
age_band,25+,80 %
gender,female,0.505
gender,male,0.5
"""


def test_load_margins(tmp_path: Path) -> None:
    path = tmp_path / "margins.csv"
    path.write_text("\ufeff" + GOOD_MARGINS, encoding="utf-8")
    margins = load_margins(path)
    assert margins.dimensions == ("region", "age_band", "gender")
    assert margins.shares["age_band"] == pytest.approx({"15-24": 0.2, "25+": 0.8})
    assert margins.shares["gender"]["female"] == 0.505  # 1.005 in total is within 0.01
    assert margins.source == str(path)


def _problems(text: str, **options: object) -> list[tuple[int | None, str, str]]:
    with pytest.raises(MarginsFileError) as caught:
        parse_margins(text, source="margins.csv", **options)  # type: ignore[arg-type]
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_every_problem_in_a_margins_file_is_reported() -> None:
    text = """dimension,category,share
region,Baku,0.5
region,Ganja,0.45
regoin,Lankaran,0.05
gender,female,55%
gender,male,0.45
gender,female,0.5
age_band,18-24,abc
age_band,25-34,45
age_band,,0.2
age_band,35+,0.3,extra
"""
    problems = _problems(text)
    assert [(line, field) for line, field, _ in problems] == [
        (2, "share"),
        (4, "dimension"),
        (5, "share"),
        (7, "category"),
        (8, "share"),
        (9, "share"),
        (10, "category"),
        (11, ""),
    ]
    messages = [message for _, _, message in problems]
    assert "shares of region add up to 0.95, not 1" in messages[0]
    assert "'regoin'" in messages[1] and "did you mean 'region'" in messages[1]
    assert "region, age_band, gender" in messages[1]
    assert "mixes percentages (line 5) and proportions (line 6)" in messages[2]
    assert "already given on line 5" in messages[3]
    assert "'abc' is not a number" in messages[4]
    assert "outside 0 to 1" in messages[5] and "45%" in messages[5]
    assert "missing" in messages[6]
    assert "4 fields where 3 are expected" in messages[7]
    with pytest.raises(MarginsFileError) as caught:
        parse_margins(text, source="margins.csv")
    first = str(caught.value).splitlines()[0]
    assert first == (
        "margins.csv:2: share: the shares of region add up to 0.95, not 1: "
        "correct them, or add the missing categories"
    )
    assert isinstance(caught.value, OutreachError)
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert copy.problems == caught.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", (1, "header", "the file is empty"), id="empty"),
        pytest.param(
            "region,Baku,0.5\nregion,Ganja,0.5\n",
            (1, "header", "the header line is missing: add 'dimension,category,share'"),
            id="no-header",
        ),
        pytest.param(
            "dim,cat,share\nregion,Baku,1\n",
            (1, "header", "the first line reads 'dim,cat,share'"),
            id="wrong-header",
        ),
        pytest.param("dimension,category,share\n", (1, "", "no categories"), id="no-data"),
        pytest.param(
            "dimension,category,share\ngender,f,50%\ngender,m,40%\n",
            (2, "share", "the shares of gender add up to 90%, not 100%"),
            id="percent-sum",
        ),
        pytest.param(
            "dimension,category,share\ngender,f,120%\ngender,m,0%\n",
            (2, "share", "120% is outside 0% to 100%"),
            id="percent-range",
        ),
        pytest.param(
            "dimension,category,share\ngender,f,-0.1\ngender,m,1\n",
            (2, "share", "-0.1 is outside 0 to 1"),
            id="negative",
        ),
        pytest.param(
            "dimension,category,share\ngender,f,nan\ngender,m,1\n",
            (2, "share", "'nan' is not a number"),
            id="nan",
        ),
        pytest.param(
            "dimension,category,share\ngender,f,\ngender,m,1\n",
            (2, "share", "missing: give a proportion"),
            id="no-share",
        ),
        pytest.param(
            "dimension,category,share\n,f,1\n",
            (2, "dimension", "missing: use one of region, age_band, gender"),
            id="no-dimension",
        ),
    ],
)
def test_margins_problem(text: str, expected: tuple[int, str, str]) -> None:
    line, field, fragment = expected
    problems = _problems(text)
    assert (problems[0][0], problems[0][1]) == (line, field)
    assert fragment in problems[0][2]


def test_missing_header_still_checks_the_data() -> None:
    problems = _problems("region,Baku,0.5\nregion,Baku,0.5\n")
    assert [(line, field) for line, field, _ in problems] == [
        (1, "header"),
        (1, "share"),  # the one Baku left adds up to 0.5
        (2, "category"),
    ]


@pytest.mark.parametrize("shares", [("0.5", "0.49"), ("0.5", "0.51"), ("50%", "49%")])
def test_shares_may_miss_one_by_a_hundredth(shares: tuple[str, str]) -> None:
    margins = parse_margins(
        f"dimension,category,share\ngender,f,{shares[0]}\ngender,m,{shares[1]}\n"
    )
    assert set(margins.shares["gender"]) == {"f", "m"}


def test_allowed_dimensions_are_configurable() -> None:
    text = "dimension,category,share\nlanguage,az,0.8\nlanguage,ru,0.2\n"
    assert parse_margins(text, dimensions=["language"]).dimensions == ("language",)
    assert _problems(text)[0][1] == "dimension"


def test_an_unreadable_margins_file(tmp_path: Path) -> None:
    with pytest.raises(MarginsFileError, match="cannot read the file"):
        load_margins(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"dimension,category,share\nregion,G\xe4nc\xe4,1\n")
    with pytest.raises(MarginsFileError, match="not UTF-8"):
        load_margins(latin)


# =========================================================================== linked publications


def _linked(
    counts: dict[str, dict[str, int]], k: int = 5
) -> tuple[SuppressedCounts, SuppressedTable]:
    """A question's overall results, then its breakdown keeping them as published."""
    columns = sorted({c for row in counts.values() for c in row})
    overall = suppress_counts(
        {c: sum(row.get(c, 0) for row in counts.values()) for c in columns}, k=k
    )
    table = suppress_table(
        counts, columns=columns, k=k, column_totals=overall.cells, grand_total=overall.total
    )
    return overall, table


def test_a_breakdown_keeps_the_overall_results_as_published() -> None:
    # Alone, this breakdown hides the totals of c1 and c2 and the overall results
    # hide c1 and c3: read together they gave c1 = 2. Kept as published, they agree.
    counts = {
        "r0": {"c0": 20, "c1": 2, "c2": 6, "c3": 12},
        "r1": {"c0": 1, "c1": 0, "c2": 12, "c3": 5},
    }
    alone = suppress_table(counts, columns=["c0", "c1", "c2", "c3"])
    overall, table = _linked(counts)
    assert [alone.column_totals[c].text for c in ("c1", "c2")] != [
        overall.cells[c].text for c in ("c1", "c2")
    ]
    for column, figure in overall.cells.items():
        assert table.column_totals[column].text == figure.text
    assert table.grand_total.text == overall.total.text
    published, truth = two_way_view(table)
    assert Attacker(published).exposed(truth) == []


def test_linked_publications_never_expose_a_count_together() -> None:
    rng = random.Random(11)
    checked = 0
    for _ in range(120):
        rows, columns = rng.randint(2, 5), rng.randint(2, 5)
        counts = {
            f"r{i}": {f"c{j}": rng.choice((0, 1, 2, 3, 4, 6, 9, 15, 30)) for j in range(columns)}
            for i in range(rows)
        }
        try:
            overall, table = _linked(counts)
        except SuppressionError:
            continue  # refused: nothing is published
        for column, figure in overall.cells.items():
            assert table.column_totals[column].text == figure.text
        published, truth = two_way_view(table)
        assert Attacker(published).exposed(truth) == [], counts
        checked += 1
    assert checked >= 100
