"""Small-cell suppression of three-way tables (first by second by answer) and all their totals.

A cube's cells are published with every total of every line: people per
segment, per first and answer, per second and answer, per answer, per first,
per second, and everyone. The attacker of tests/attacker.py gets all those
lines (a three-way table's lines do not form a network, so its LP is not the
two-way one) and must find no hidden count other than 0 pinned to one value.
Flattening the segments into the rows of a two-way table is shown to leak.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pytest

from polls.analysis import (
    COMPLEMENTARY_MARKER,
    Figure,
    HiddenBecause,
    SuppressedCube,
    SuppressedTable,
    SuppressionError,
    suppress_cube,
    suppress_table,
)
from tests.attacker import Attacker, Published
from tests.test_analysis_maths import two_way_view

ALL = "+"
"""Stands for "every value" of a dimension in a figure's name: ``north/+/yes``."""

Cube = dict[tuple[str, str], dict[str, int]]
Name = tuple[str, str, str]


# --------------------------------------------------------------------------- the reader's view


def _name(first: str, second: str, column: str) -> str:
    return f"{first}/{second}/{column}"


def cube_lines(
    firsts: Sequence[str], seconds: Sequence[str], columns: Sequence[str]
) -> list[tuple[str, list[str]]]:
    """Every line of the cube and of its totals: one total, the parts it adds up."""
    lines = []
    for second, column in itertools.product([*seconds, ALL], [*columns, ALL]):
        lines.append((_name(ALL, second, column), [_name(f, second, column) for f in firsts]))
    for first, column in itertools.product([*firsts, ALL], [*columns, ALL]):
        lines.append((_name(first, ALL, column), [_name(first, s, column) for s in seconds]))
    for first, second in itertools.product([*firsts, ALL], [*seconds, ALL]):
        lines.append((_name(first, second, ALL), [_name(first, second, c) for c in columns]))
    return lines


def cube_figures(result: SuppressedCube) -> dict[Name, Figure]:
    """Every figure of the result by (first, second, column), ``+`` for "all of them"."""
    figures: dict[Name, Figure] = {(f, s, c): x for (f, s, c), x in result.cells.items()}
    figures |= {(f, s, ALL): x for (f, s), x in result.segment_totals.items()}
    figures |= {(f, ALL, c): x for (f, c), x in result.first_cells.items()}
    figures |= {(ALL, s, c): x for (s, c), x in result.second_cells.items()}
    figures |= {(ALL, ALL, c): x for c, x in result.column_totals.items()}
    figures |= {(f, ALL, ALL): x for f, x in result.first_totals.items()}
    figures |= {(ALL, s, ALL): x for s, x in result.second_totals.items()}
    figures[ALL, ALL, ALL] = result.grand_total
    return figures


def cube_view(result: SuppressedCube) -> tuple[Published, dict[str, int]]:
    """What a reader of everything published about the cube sees, and the truth."""
    figures = {_name(*key): figure for key, figure in cube_figures(result).items()}
    lines = cube_lines(result.firsts, result.seconds, result.columns)
    texts = {name: figure.text for name, figure in figures.items()}
    return Published(texts, lines, result.k), {n: f.count for n, f in figures.items()}


def true_counts(counts: Cube, columns: Sequence[str]) -> dict[str, int]:
    """Every figure of the cube, totals included, added up from the counts."""
    firsts = list(dict.fromkeys(f for f, _ in counts))
    seconds = list(dict.fromkeys(s for _, s in counts))
    values: dict[str, int] = {}
    for first, second, column in itertools.product(
        [*firsts, ALL], [*seconds, ALL], [*columns, ALL]
    ):
        values[_name(first, second, column)] = sum(
            counts.get((f, s), {}).get(c, 0)
            for f in (firsts if first == ALL else [first])
            for s in (seconds if second == ALL else [second])
            for c in (columns if column == ALL else [column])
        )
    return values


def naive_view(counts: Cube, columns: Sequence[str], k: int) -> tuple[Published, dict[str, int]]:
    """The cube published the naive way: segments as rows, each breakdown suppressed alone.

    The segments-by-answers table (rows ``first|second``) gives the cells, the
    people per segment and per answer; the two one-dimension breakdowns are
    suppressed on their own. A figure shown in any of them is shown.
    """
    firsts = list(dict.fromkeys(f for f, _ in counts))
    seconds = list(dict.fromkeys(s for _, s in counts))
    truth = true_counts(counts, columns)
    published: dict[str, list[Figure]] = {name: [] for name in truth}

    def add(table: SuppressedTable, place: Callable[[str], tuple[str, str]]) -> None:
        for (row, column), figure in table.cells.items():
            published[_name(*place(row), column)].append(figure)
        for row, figure in table.row_totals.items():
            published[_name(*place(row), ALL)].append(figure)
        for column, figure in table.column_totals.items():
            published[_name(ALL, ALL, column)].append(figure)
        published[_name(ALL, ALL, ALL)].append(table.grand_total)

    segments = {f"{f}|{s}": dict(answers) for (f, s), answers in counts.items()}
    add(suppress_table(segments, columns=columns, k=k), _segment_of_row)
    by_first = {f: {c: truth[_name(f, ALL, c)] for c in columns} for f in firsts}
    add(suppress_table(by_first, columns=columns, k=k), lambda row: (row, ALL))
    by_second = {s: {c: truth[_name(ALL, s, c)] for c in columns} for s in seconds}
    add(suppress_table(by_second, columns=columns, k=k), lambda row: (ALL, row))
    texts = {}
    for name, figures in published.items():
        assert figures, name
        shown = [f for f in figures if f.shown]
        texts[name] = shown[0].text if shown else figures[0].text
    return Published(texts, cube_lines(firsts, seconds, columns), k), truth


def _segment_of_row(row: str) -> tuple[str, str]:
    first, second = row.split("|")
    return first, second


# --------------------------------------------------------------------------- checks


def check_rules(result: SuppressedCube) -> None:
    """Honest markers, sums that add up, small figures hidden as small, zeros shown."""
    k = result.k
    figures = cube_figures(result)
    for (first, second, column), figure in figures.items():
        expected = sum(
            result.cells[f, s, c].count
            for f in (result.firsts if first == ALL else [first])
            for s in (result.seconds if second == ALL else [second])
            for c in (result.columns if column == ALL else [column])
        )
        where = (first, second, column)
        assert figure.count == expected, where
        if figure.shown:
            assert figure.text == str(figure.count), where
        else:
            assert figure.text == (f"<{k}" if figure.count < k else COMPLEMENTARY_MARKER), where
        if 0 < figure.count < k:
            assert figure.hidden_because is HiddenBecause.SMALL, where
        if figure.hidden_because is HiddenBecause.COMPLEMENTARY:
            assert figure.count >= k, where
    # Everything under a small total is hidden, zeros included; other zeros are shown.
    small_totals = [key for key, f in figures.items() if ALL in key and 0 < f.count < k]
    for key, figure in figures.items():
        under_small = any(
            all(t in (ALL, x) for t, x in zip(total, key, strict=True)) for total in small_totals
        )
        if under_small:
            assert figure.hidden_because is HiddenBecause.SMALL, key
        elif figure.count == 0:
            assert figure.shown, key


def assert_safe(result: SuppressedCube) -> None:
    check_rules(result)
    view, truth = cube_view(result)
    assert Attacker(view).exposed(truth) == []


def _random_count(generator: random.Random) -> int:
    kind = generator.random()
    if kind < 0.2:
        return 0
    if kind < 0.5:
        return generator.randint(1, 9)
    return generator.choice([generator.randint(5, 20), generator.randint(10, 80)])


def _random_cube(generator: random.Random, sizes: tuple[int, int, int]) -> Cube:
    return {
        (f"f{i}", f"s{j}"): {f"c{v}": _random_count(generator) for v in range(sizes[2])}
        for i in range(sizes[0])
        for j in range(sizes[1])
    }


def _survey_cube(generator: random.Random, sizes: tuple[int, int, int], people: int) -> Cube:
    """People spread over the cells unevenly, as a survey's answers are."""
    weights = [[generator.random() ** 2 + 0.05 for _ in range(size)] for size in sizes]
    cells = list(itertools.product(range(sizes[0]), range(sizes[1]), range(sizes[2])))
    shares = [weights[0][i] * weights[1][j] * weights[2][v] for i, j, v in cells]
    counts: dict[tuple[int, int, int], int] = dict.fromkeys(cells, 0)
    for cell in generator.choices(cells, shares, k=people):
        counts[cell] += 1
    return {
        (f"f{i}", f"s{j}"): {f"c{v}": counts[i, j, v] for v in range(sizes[2])}
        for i in range(sizes[0])
        for j in range(sizes[1])
    }


# --------------------------------------------------------------------------- the reader


def test_the_view_has_every_line_of_the_cube() -> None:
    lines = cube_lines(["a", "b"], ["x", "y", "z"], ["yes", "no"])
    # (2+1)(3+1)(2+1) figures; a line per two fixed coordinates, along each dimension.
    assert len(lines) == 4 * 3 + 3 * 3 + 3 * 4
    assert (_name(ALL, "y", ALL), [_name("a", "y", ALL), _name("b", "y", ALL)]) in lines
    assert (_name("a", ALL, "no"), [_name("a", s, "no") for s in "xyz"]) in lines
    assert (_name(ALL, ALL, ALL), [_name(ALL, ALL, "yes"), _name(ALL, ALL, "no")]) in lines


def test_the_attacker_sees_through_lines_of_the_cube() -> None:
    # One hidden cell, every other figure shown: any line through it gives it away.
    counts = {("n", "y"): {"a": 3, "b": 9}, ("n", "o"): {"a": 7, "b": 8}}
    counts |= {("s", "y"): {"a": 6, "b": 5}, ("s", "o"): {"a": 9, "b": 9}}
    truth = true_counts(counts, ["a", "b"])
    texts = {name: str(value) for name, value in truth.items()}
    texts["n/y/a"] = "<5"
    view = Published(texts, cube_lines(["n", "s"], ["y", "o"], ["a", "b"]), 5)
    assert Attacker(view).exposed(truth) == ["n/y/a"]
    # Hiding its whole segment (row n/y) is not enough: n/+/a - n/o/a = 3.
    for name in ("n/y/b", "n/y/+"):
        texts[name] = COMPLEMENTARY_MARKER
    assert Attacker(view).exposed(truth) == ["n/y/a", "n/y/b", "n/y/+"]
    # A 2 x 2 x 2 block of hidden cells is safe: one person moves round its corners.
    for name in ("n/o/a", "n/o/b", "s/y/a", "s/y/b", "s/o/a", "s/o/b"):
        texts[name] = COMPLEMENTARY_MARKER
    texts["n/y/+"] = str(truth["n/y/+"])
    assert Attacker(view).exposed(truth) == []


# --------------------------------------------------------------------------- the naive way leaks


LEAKS = [
    pytest.param(
        {
            ("north", "young"): {"yes": 3, "no": 20, "unsure": 15},
            ("north", "old"): {"yes": 25, "no": 30, "unsure": 18},
            ("south", "young"): {"yes": 12, "no": 22, "unsure": 16},
            ("south", "old"): {"yes": 40, "no": 35, "unsure": 28},
        },
        "north/young/yes",
        # The flat table's cheapest rectangle takes south/young: north/+/yes
        # from the regions' breakdown, less north/old/yes, is 3.
        id="through-the-first-breakdown",
    ),
    pytest.param(
        {
            ("north", "young"): {"yes": 3, "no": 20, "unsure": 15},
            ("north", "old"): {"yes": 6, "no": 30, "unsure": 7},
            ("south", "young"): {"yes": 40, "no": 22, "unsure": 36},
            ("south", "old"): {"yes": 40, "no": 35, "unsure": 28},
        },
        "north/young/yes",
        # Here the rectangle stays in the north: +/young/yes less south/young/yes.
        id="through-the-second-breakdown",
    ),
    pytest.param(
        {
            ("north", "young"): {"yes": 2, "no": 0, "unsure": 1},
            ("north", "old"): {"yes": 25, "no": 30, "unsure": 18},
            ("south", "young"): {"yes": 12, "no": 22, "unsure": 16},
            ("south", "old"): {"yes": 40, "no": 35, "unsure": 28},
        },
        "north/young/+",
        # Three people in north/young: the flat table hides that row and another
        # row's total, but the regions' breakdown shows north, less north/old.
        id="a-small-segment",
    ),
    pytest.param(
        {
            ("north", "young"): {"yes": 2, "no": 9, "unsure": 9},
            ("north", "old"): {"yes": 2, "no": 9, "unsure": 9},
            ("south", "young"): {"yes": 9, "no": 30, "unsure": 30},
            ("south", "old"): {"yes": 9, "no": 30, "unsure": 30},
        },
        "north/young/yes",
        # The two small cells protect each other in the flat table, and
        # north/+/yes (4) is hidden in the regions' breakdown, but the ages'
        # breakdown shows +/young/yes, less south/young/yes: 2.
        id="two-small-cells-in-one-column",
    ),
]


@pytest.mark.parametrize(("counts", "leaked"), LEAKS)
def test_the_naive_way_leaks_and_the_cube_does_not(counts: Cube, leaked: str) -> None:
    columns = ["yes", "no", "unsure"]
    view, truth = naive_view(counts, columns, 5)
    assert leaked in Attacker(view).exposed(truth)
    result = suppress_cube(counts, columns=columns, k=5)
    assert_safe(result)
    first, second, column = leaked.split("/")
    assert not cube_figures(result)[first, second, column].shown


# --------------------------------------------------------------------------- what is hidden


def test_nothing_small_nothing_hidden() -> None:
    counts = {
        ("north", "young"): {"yes": 12, "no": 0},
        ("north", "old"): {"yes": 5, "no": 30},
        ("south", "young"): {"yes": 7, "no": 9},
    }
    result = suppress_cube(counts)
    assert result.hidden_figures == 0
    assert result.cells["south", "old", "yes"].text == "0"  # a segment nobody is in
    assert result.segment_totals["north", "old"].text == "35"
    assert result.first_cells["north", "yes"].text == "17"
    assert result.second_cells["young", "no"].text == "9"
    assert result.column_totals["yes"].text == "24"
    assert result.first_totals["south"].text == "16"
    assert result.second_totals["old"].text == "35"
    assert result.grand_total.text == "63"
    assert (result.firsts, result.seconds, result.columns) == (
        ("north", "south"),
        ("young", "old"),
        ("yes", "no"),
    )


def test_one_small_cell_takes_a_hypercube() -> None:
    generator = random.Random(8)
    counts = {(f, s): {c: generator.randint(20, 60) for c in "abc"} for f in "pqr" for s in "xyz"}
    counts["q", "y"]["b"] = 2
    result = suppress_cube(counts)
    hidden = [cell for cell, f in result.cells.items() if not f.shown]
    assert ("q", "y", "b") in hidden
    # The fewest cells that protect one: a 2 x 2 x 2 block, no total hidden.
    assert len(hidden) == 8
    assert all(len({cell[d] for cell in hidden}) == 2 for d in range(3))
    assert result.hidden_figures == 8
    assert_safe(result)


def test_a_small_total_hides_what_lies_under_it() -> None:
    counts = {
        ("north", "young"): {"yes": 2, "no": 20, "unsure": 0},
        ("north", "old"): {"yes": 1, "no": 30, "unsure": 0},
        ("south", "young"): {"yes": 12, "no": 22, "unsure": 16},
        ("south", "old"): {"yes": 40, "no": 35, "unsure": 28},
    }
    result = suppress_cube(counts)
    # north/+/yes is 3: its cells are "<5"; north/+/unsure is 0 and shown, as are its cells.
    assert result.first_cells["north", "yes"].text == "<5"
    assert result.first_cells["north", "yes"].hidden_because is HiddenBecause.SMALL
    assert [result.cells["north", s, "yes"].text for s in ("young", "old")] == ["<5", "<5"]
    assert result.cells["north", "young", "unsure"].text == "0"
    assert_safe(result)

    few = {("north", "young"): {"yes": 1, "no": 0}, ("north", "old"): {"yes": 0, "no": 0}}
    few |= {("south", "young"): {"yes": 9, "no": 6}, ("south", "old"): {"yes": 8, "no": 7}}
    result = suppress_cube(few)
    # One person in the north: the north's cells and totals are all hidden, zeros too.
    north = [f for key, f in cube_figures(result).items() if key[0] == "north"]
    assert len(north) == 2 * 3 + 3
    assert all(f.text == "<5" and f.hidden_because is HiddenBecause.SMALL for f in north)
    assert_safe(result)


def test_a_small_grand_total_hides_everything() -> None:
    result = suppress_cube({("a", "x"): {"yes": 1, "no": 0}, ("b", "y"): {"yes": 2}})
    figures = cube_figures(result)
    assert len(figures) == 3 * 3 * 3
    assert all(f.text == "<5" for f in figures.values())
    assert result.hidden_figures == 27
    assert_safe(result)


def test_columns_segments_and_zeros() -> None:
    result = suppress_cube(
        {("a", "x"): {"no": 9}, ("b", "y"): {"yes": 7}}, columns=["yes", "no", "unsure"]
    )
    assert result.columns == ("yes", "no", "unsure")
    assert result.cells["a", "y", "yes"].text == "0"  # a segment not mentioned
    assert result.column_totals["unsure"].text == "0"
    assert result.segment_totals["b", "x"].text == "0"
    assert result.hidden_figures == 0
    with pytest.raises(ValueError, match="'maybe'"):
        suppress_cube({("a", "x"): {"maybe": 7}}, columns=["yes"])
    with pytest.raises(ValueError, match="pair"):
        suppress_cube({("a",): {"yes": 7}})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="whole number"):
        suppress_cube({("a", "x"): {"yes": -1}})
    with pytest.raises(ValueError, match="at least 3"):
        suppress_cube({("a", "x"): {"yes": 7}}, k=2)


def test_an_empty_cube() -> None:
    result = suppress_cube({})
    assert result.grand_total.text == "0"
    assert result.cells == {}
    result = suppress_cube({}, columns=["yes"])
    assert result.column_totals["yes"].text == "0"


def test_one_dimension_breakdowns_come_from_the_cube() -> None:
    generator = random.Random(12)
    counts = _survey_cube(generator, (5, 4, 4), 900)
    result = suppress_cube(counts, k=5)
    by_first = result.first_table()
    assert by_first.rows == result.firsts
    assert by_first.columns == result.columns
    assert by_first.cells == result.first_cells
    assert by_first.row_totals == result.first_totals
    assert by_first.column_totals == result.column_totals
    by_second = result.second_table()
    assert by_second.cells == result.second_cells
    assert by_second.row_totals == result.second_totals
    assert by_second.grand_total == result.grand_total
    for table in (by_first, by_second):
        view, truth = two_way_view(table)
        assert Attacker(view).exposed(truth) == []
    assert result.hidden_figures > 0
    assert_safe(result)


def test_an_unprotectable_cube_is_refused() -> None:
    # With k = 3, "<3" is 1 or 2: in these segments of 3 people, even hiding every
    # figure but the zeros leaves a reader only one way to fill them in.
    counts = {
        ("a", "x"): {"yes": 3, "no": 20},
        ("a", "y"): {"yes": 0, "no": 12},
        ("a", "z"): {"yes": 2, "no": 1},
        ("b", "x"): {"yes": 6, "no": 0},
        ("b", "y"): {"yes": 3, "no": 20},
        ("b", "z"): {"yes": 2, "no": 1},
    }
    with pytest.raises(SuppressionError, match="could not be protected"):
        suppress_cube(counts, k=3)
    view, truth = everything_hidden(counts, ["yes", "no"], 3)
    assert "a/z/yes" in Attacker(view).exposed(truth)


def test_a_cube_no_prism_protects_is_refused() -> None:
    # k = 5: a/x/yes is 4 and can only go down, but a/+/yes is 5 ("x" if hidden,
    # so it cannot go down) and +/y/yes is 4 (cannot go up): no prism moves it.
    counts = {
        ("a", "x"): {"yes": 4, "no": 5},
        ("a", "y"): {"yes": 1, "no": 5},
        ("b", "x"): {"yes": 4, "no": 6},
        ("b", "y"): {"yes": 3, "no": 2},
    }
    with pytest.raises(SuppressionError, match="could not be protected"):
        suppress_cube(counts, k=5)
    # A staircase would have done, through all three directions and hiding
    # every total: a/x/yes - 1, a/y/yes + 1, b/y/yes - 1, b/y/no + 1.
    view, truth = everything_hidden(counts, ["yes", "no"], 5)
    moved = dict(truth)
    for cell, change in [("a/x/yes", -1), ("a/y/yes", 1), ("b/y/yes", -1), ("b/y/no", 1)]:
        first, second, column = cell.split("/")
        for name in truth:
            f, s, c = name.split("/")
            if f in (first, ALL) and s in (second, ALL) and c in (column, ALL):
                moved[name] += change
    assert all(low <= moved[n] <= high for n in truth for low, high in [view.bounds(n)])
    assert moved["a/x/yes"] != truth["a/x/yes"]


# --------------------------------------------------------------------------- random cubes


def everything_hidden(
    counts: Cube, columns: Sequence[str], k: int
) -> tuple[Published, dict[str, int]]:
    """The cube with every figure hidden but the zeros (those under a total below k too)."""
    truth = true_counts(counts, columns)
    firsts = list(dict.fromkeys(f for f, _ in counts))
    seconds = list(dict.fromkeys(s for _, s in counts))
    texts = {
        n: "0" if v == 0 else f"<{k}" if v < k else COMPLEMENTARY_MARKER for n, v in truth.items()
    }
    view = Published(texts, cube_lines(firsts, seconds, columns), k)
    for total, parts in view.lines * 3:  # a line under a small total is small
        if view.texts[total] == f"<{k}":
            view.texts |= dict.fromkeys(parts, f"<{k}")
    return view, truth


def _suppress_or_refuse(counts: Cube, k: int) -> SuppressedCube | None:
    """The cube suppressed, or None when refused (see the tests above)."""
    try:
        return suppress_cube(counts, k=k)
    except SuppressionError:
        return None


def test_random_cubes_cannot_be_undone() -> None:
    generator = random.Random(2027)
    complements = hidden_totals = refused = 0
    for _ in range(300):
        k = generator.choice([3, 5, 10])
        sizes = (generator.randint(1, 6), generator.randint(1, 5), generator.randint(1, 5))
        counts = _random_cube(generator, sizes)
        result = _suppress_or_refuse(counts, k)
        if result is None:
            refused += 1
            continue
        assert_safe(result)
        assert suppress_cube(counts, k=k) == result  # deterministic
        figures = cube_figures(result).items()
        complements += sum(f.hidden_because is HiddenBecause.COMPLEMENTARY for _, f in figures)
        hidden_totals += sum(ALL in key and not f.shown for key, f in figures)
    assert refused <= 5
    assert complements > 2000  # the runs exercised complementary suppression
    assert hidden_totals > 700  # and hid totals


def test_random_survey_cubes_cannot_be_undone() -> None:
    generator = random.Random(77)
    refused = 0
    for _ in range(100):
        k = generator.choice([3, 5, 10])
        sizes = (generator.randint(2, 6), generator.randint(2, 5), generator.randint(2, 5))
        counts = _survey_cube(generator, sizes, generator.choice([50, 200, 1000, 5000]))
        result = _suppress_or_refuse(counts, k)
        if result is None:
            refused += 1
            continue
        assert_safe(result)
    assert refused <= 5


def _tables_within_one(result: SuppressedCube) -> Iterator[dict[Name, int]]:
    """Every cube within one person per hidden cell of the truth that reads as published."""
    figures = cube_figures(result)
    cells = list(result.cells)
    hidden = [cell for cell in cells if not result.cells[cell].shown]
    truth = np.array([result.cells[cell].count for cell in cells])
    keys = list(figures)
    # How each figure adds up from the cells.
    adds = np.array(
        [
            [all(t in (ALL, x) for t, x in zip(key, cell, strict=True)) for cell in cells]
            for key in keys
        ],
        dtype=np.int64,
    )
    view, _ = cube_view(result)
    bounds = np.array([view.bounds(_name(*key)) for key in keys]).T
    moves = np.array(list(itertools.product((-1, 0, 1), repeat=len(hidden))), dtype=np.int64)
    tables = np.tile(truth, (len(moves), 1))
    tables[:, [cells.index(cell) for cell in hidden]] += moves
    values = tables @ adds.T
    fits = ((values >= bounds[0]) & (values <= bounds[1])).all(axis=1) & (tables >= 0).all(axis=1)
    for row in values[fits]:
        yield dict(zip(keys, (int(v) for v in row), strict=True))


def test_tiny_cubes_have_another_table_one_person_away() -> None:
    """The LP is a relaxation in three dimensions; whole people must move too."""
    generator = random.Random(5)
    checked = 0
    while checked < 40:
        k = generator.choice([3, 5])
        sizes = generator.choice([(2, 2, 2), (2, 2, 3), (2, 3, 2), (3, 2, 2)])
        counts = {
            (f"f{i}", f"s{j}"): {
                f"c{v}": generator.choice([0, 1, 2, 4, 6, 9]) for v in range(sizes[2])
            }
            for i in range(sizes[0])
            for j in range(sizes[1])
        }
        try:
            result = suppress_cube(counts, k=k)
        except SuppressionError:
            continue
        if sum(not f.shown for f in result.cells.values()) > 10:
            continue
        truth = {key: f.count for key, f in cube_figures(result).items()}
        seen: dict[Name, set[int]] = {key: set() for key in truth}
        for table in _tables_within_one(result):
            for key, value in table.items():
                seen[key].add(value)
        assert all(truth[key] in seen[key] for key in truth)
        pinned = [
            key
            for key, f in cube_figures(result).items()
            if not f.shown and f.count > 0 and seen[key] == {f.count}
        ]
        assert pinned == [], counts
        checked += 1


# --------------------------------------------------------------------------- speed


def test_a_14_by_7_by_10_cube_is_fast() -> None:
    generator = random.Random(14)
    counts = _survey_cube(generator, (14, 7, 10), 20_000)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = suppress_cube(counts, k=5)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.5
    assert sum(f.hidden_because is HiddenBecause.COMPLEMENTARY for f in result.cells.values())
    check_rules(result)
