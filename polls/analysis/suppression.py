"""Small-cell suppression for published counts, with complementary suppression.

A published table must not let anyone work out how many people, fewer than
``k``, gave an answer: not from the figure itself, nor by subtracting the
shown figures from a shown total, nor through a chain of rows and columns.

**Primary suppression.** A count of 1 to ``k - 1`` is hidden. A total of 1 to
``k - 1`` is hidden with its whole row or column, and a grand total below ``k``
with the whole table (zeros included: in a group of three, "0, 0, 3" says
what all three answered). Zeros elsewhere are shown:
"nobody in this group said X" describes no one, and hiding every zero would
blank out most tables.

**How hidden figures read.** :func:`display` shows a hidden count below ``k``
as ``<5`` and a hidden count of ``k`` or more as ``x``, so no figure misleads
a reader. That tells a reader something, and the protection assumes they use
it: a ``<k`` figure is taken to be 1..k-1 (0..k-1 inside a row or column whose
total reads ``<k``), and an ``x`` figure at least ``k``.

**Complementary suppression.** Every table is a set of lines (each row, each
column, the row totals and the column totals), each saying ``total = sum of
its parts``. A hidden count that is not zero is *exposed* when the shown
figures, the lines and those bounds admit only one value for it. It is safe
exactly when some other consistent table differs from the true one by one
person moved around a cycle of hidden figures (add one here, take one there,
row, column, row, ...), each staying within its bounds. So while a hidden
count is exposed, the cheapest such cycle through it is found, counting shown
figures it has to pass through at their value (the smallest non-zero counts,
and hidden figures for free, so hiding one figure often protects several),
with row and column totals only when no cycle of cells exists and the grand
total last; those figures are hidden too. This covers the usual "a row with
one hidden cell" as well as chains through rows and columns, and ends with no
hidden non-zero count exposed. Zero counts are never used as complements;
a hidden zero (inside a small row or column) may still be worked out, as a
shown zero may be read.

**Three-way tables.** Results by two dimensions (region by age band, say) are
a cube of counts per first, second and answer, and every line of it has a
published total: the people per segment, the breakdowns by one dimension
(per first and answer, per second and answer) and their own totals. Rows of
segments in a two-way table would leave two directions open (the north's
"yes" less the old's gives the young's). A cube's lines are not a network,
so a cycle alone moves no one consistently; a *prism* does: a cycle of the
two-way engine in one slice of the cube (one value of one dimension, with its
totals), repeated with the opposite moves in a parallel slice, or the same
moves in the slice of totals. Primary suppression is as above in all three
directions (a total below ``k`` hides all that adds up into it); then every
hidden count other than 0 gets the cheapest feasible prism through it, cells
before totals. The 2 x 2 x 2 block of tau-argus' hypercube method, the fewest
cells that protect one cell of a cube, is the prism of a 4-cycle. Each prism
is another table, one person away, that reads the same, so no hidden count
other than 0 is pinned, for whole people or fractions. Not every protecting
pattern is a prism, so a cube may hide more than the least possible, and one
with no prism for some count is refused; that was seen only in very sparse
cubes, mostly with ``k = 3``, where some could not be protected at all and
some by a longer pattern (a staircase through all three directions).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from polls.errors import OutreachError
from polls.results import MIN_GROUP

__all__ = [
    "COMPLEMENTARY_MARKER",
    "Figure",
    "HiddenBecause",
    "SuppressedCounts",
    "SuppressedCube",
    "SuppressedTable",
    "SuppressionError",
    "display",
    "suppress_counts",
    "suppress_cube",
    "suppress_table",
]

COMPLEMENTARY_MARKER = "x"
"""How a hidden figure of ``k`` or more reads (Statistics Canada's convention)."""

_CELL, _LINE_TOTAL, _GRAND_TOTAL = 0, 1, 2


class HiddenBecause(StrEnum):
    """Why a figure is not published."""

    SMALL = "small"
    """Fewer than ``k`` people, or part of a row or column of fewer than ``k``."""
    COMPLEMENTARY = "complementary"
    """Hidden so that a small figure cannot be worked out from the others."""


class SuppressionError(OutreachError):
    """A table in which some small figure could not be protected."""


@dataclass(frozen=True)
class Figure:
    """One count of a table: its true value, and what may be published of it."""

    count: int
    hidden_because: HiddenBecause | None
    text: str
    """What to publish: the count, ``<k``, or :data:`COMPLEMENTARY_MARKER`."""

    @property
    def shown(self) -> bool:
        return self.hidden_because is None


@dataclass(frozen=True)
class SuppressedCounts:
    """A one-way table (counts per category and their total) ready to publish."""

    k: int
    cells: dict[str, Figure]
    total: Figure

    @property
    def hidden_figures(self) -> int:
        """How many figures, total included, are not published."""
        return sum(not f.shown for f in (*self.cells.values(), self.total))


@dataclass(frozen=True)
class SuppressedTable:
    """A two-way table (rows by columns, with all totals) ready to publish."""

    k: int
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: dict[tuple[str, str], Figure]
    row_totals: dict[str, Figure]
    column_totals: dict[str, Figure]
    grand_total: Figure

    @property
    def hidden_figures(self) -> int:
        """How many figures, totals included, are not published."""
        figures = (
            *self.cells.values(),
            *self.row_totals.values(),
            *self.column_totals.values(),
            self.grand_total,
        )
        return sum(not f.shown for f in figures)


@dataclass(frozen=True)
class SuppressedCube:
    """A three-way table (first by second by column) and every total it implies, ready to publish.

    ``first`` and ``second`` are the dimensions results are broken down by (say
    region and age band), ``columns`` the answers. Each total here is published
    somewhere (the one-dimension breakdowns, the people per segment, the overall
    results) and was protected together with the cells: publish these figures,
    not ones suppressed separately, or what one table hides another may show.
    """

    k: int
    firsts: tuple[str, ...]
    seconds: tuple[str, ...]
    columns: tuple[str, ...]
    cells: dict[tuple[str, str, str], Figure]
    """Per (first, second, column)."""
    segment_totals: dict[tuple[str, str], Figure]
    """Per (first, second): everyone in the segment (the people who answered)."""
    first_cells: dict[tuple[str, str], Figure]
    """Per (first, column), over every second."""
    second_cells: dict[tuple[str, str], Figure]
    """Per (second, column), over every first."""
    column_totals: dict[str, Figure]
    first_totals: dict[str, Figure]
    second_totals: dict[str, Figure]
    grand_total: Figure

    @property
    def hidden_figures(self) -> int:
        """How many figures, totals included, are not published."""
        figures = itertools.chain(
            self.cells.values(),
            self.segment_totals.values(),
            self.first_cells.values(),
            self.second_cells.values(),
            self.column_totals.values(),
            self.first_totals.values(),
            self.second_totals.values(),
            (self.grand_total,),
        )
        return sum(not f.shown for f in figures)

    def first_table(self) -> SuppressedTable:
        """The breakdown by the first dimension alone, hidden as in the whole cube."""
        return SuppressedTable(
            self.k,
            self.firsts,
            self.columns,
            dict(self.first_cells),
            dict(self.first_totals),
            dict(self.column_totals),
            self.grand_total,
        )

    def second_table(self) -> SuppressedTable:
        """The breakdown by the second dimension alone, hidden as in the whole cube."""
        return SuppressedTable(
            self.k,
            self.seconds,
            self.columns,
            dict(self.second_cells),
            dict(self.second_totals),
            dict(self.column_totals),
            self.grand_total,
        )


def display(count: int, shown: bool, k: int = MIN_GROUP) -> str:
    """The published text of a count: itself, ``<k`` when hidden and below ``k``, else ``x``."""
    if shown:
        return str(count)
    return f"<{k}" if count < k else COMPLEMENTARY_MARKER


def suppress_counts(counts: Mapping[str, int], *, k: int = MIN_GROUP) -> SuppressedCounts:
    """Hide what would single people out of counts per category and their total.

    The total is the sum of the counts, and it is published unless it has to be
    hidden as well (it is below ``k``, or every other way to protect a small
    count would fail).
    """
    _check_threshold(k)
    labels = list(counts)
    values = [_count(counts[label], repr(label)) for label in labels]
    total = sum(values)
    # One line, "total = sum of cells": two nodes joined by one edge per figure.
    entries = [_Entry(0, 0, 1, value, _CELL, (len(values),)) for value in values]
    entries.append(_Entry(0, 0, -1, total, _LINE_TOTAL, ()))
    if 0 < total < k:
        for entry in entries:
            entry.hidden = HiddenBecause.SMALL
    _hide_small(entries, k)
    _protect(entries, 1, k)
    figures = [_figure(entry, k) for entry in entries]
    return SuppressedCounts(k, dict(zip(labels, figures, strict=False)), figures[-1])


def suppress_table(
    counts: Mapping[str, Mapping[str, int]],
    *,
    columns: Sequence[str] | None = None,
    k: int = MIN_GROUP,
    column_totals: Mapping[str, Figure] | None = None,
    grand_total: Figure | None = None,
) -> SuppressedTable:
    """Hide what would single people out of a rows-by-columns table and its totals.

    ``counts`` maps each row to its counts per column; a column a row does not
    mention counts 0. ``columns`` gives the columns and their order (default:
    every column mentioned, in order of first mention). Row totals, column totals
    and the grand total are the sums of the cells.

    ``column_totals`` and ``grand_total`` are figures already published elsewhere
    (a question's overall results, say): they are kept exactly as published, a
    shown one never hidden as a complement and a hidden one never shown, so the
    two publications cannot be combined to uncover a figure. SuppressionError
    when the table cannot be protected without changing them.
    """
    _check_threshold(k)
    rows = tuple(counts)
    if columns is None:
        columns = tuple(dict.fromkeys(c for row in rows for c in counts[row]))
    else:
        columns = tuple(columns)
        for row in rows:
            for column in counts[row]:
                if column not in columns:
                    raise ValueError(f"row {row!r} has a count for {column!r}, not in columns")
    n_rows, n_columns = len(rows), len(columns)
    grid = [
        [_count(counts[row].get(column, 0), f"{row!r}, {column!r}") for column in columns]
        for row in rows
    ]
    row_sums = [sum(line) for line in grid]
    column_sums = [sum(grid[i][j] for i in range(n_rows)) for j in range(n_columns)]
    grand = sum(row_sums)

    # Nodes: rows 0..n_rows-1 and the row of column totals (n_rows) on one side,
    # columns 0..n_columns-1 and the column of row totals (n_columns) on the other.
    # Entry order: cells row by row, row totals, column totals, grand total.
    first_row_total = n_rows * n_columns
    first_column_total = first_row_total + n_rows
    grand_index = first_column_total + n_columns
    entries = [
        _Entry(i, j, 1, grid[i][j], _CELL, (first_row_total + i, first_column_total + j))
        for i in range(n_rows)
        for j in range(n_columns)
    ]
    entries += [
        _Entry(i, n_columns, -1, row_sums[i], _LINE_TOTAL, (grand_index,)) for i in range(n_rows)
    ]
    entries += [
        _Entry(n_rows, j, -1, column_sums[j], _LINE_TOTAL, (grand_index,)) for j in range(n_columns)
    ]
    entries.append(_Entry(n_rows, n_columns, 1, grand, _GRAND_TOTAL, ()))
    for j, column in enumerate(columns):
        if column_totals is not None and column in column_totals:
            _keep_as_published(entries[first_column_total + j], column_totals[column])
    if grand_total is not None:
        _keep_as_published(entries[grand_index], grand_total)

    for i in range(n_rows):
        if 0 < row_sums[i] < k:
            for j in range(n_columns):
                entries[i * n_columns + j].hidden = HiddenBecause.SMALL
    for j in range(n_columns):
        if 0 < column_sums[j] < k:
            for i in range(n_rows):
                entries[i * n_columns + j].hidden = HiddenBecause.SMALL
    if 0 < grand < k:
        for entry in entries:
            entry.hidden = HiddenBecause.SMALL
    _hide_small(entries, k)
    _protect(entries, n_rows + 1, k)

    figures = [_figure(entry, k) for entry in entries]
    return SuppressedTable(
        k,
        rows,
        columns,
        {
            (row, column): figures[i * n_columns + j]
            for i, row in enumerate(rows)
            for j, column in enumerate(columns)
        },
        {row: figures[first_row_total + i] for i, row in enumerate(rows)},
        {column: figures[first_column_total + j] for j, column in enumerate(columns)},
        figures[grand_index],
    )


def suppress_cube(
    counts: Mapping[tuple[str, str], Mapping[str, int]],
    *,
    columns: Sequence[str] | None = None,
    k: int = MIN_GROUP,
) -> SuppressedCube:
    """Hide what would single people out of a three-way table and every total it implies.

    ``counts`` maps each ``(first, second)`` segment (region and age band, say)
    to its counts per column (answer); a segment or column not mentioned counts
    0. ``columns`` as in :func:`suppress_table`. Each line of the cube has a
    published total (per segment, per first and column, per second and column),
    and so do those totals, so no hidden count other than 0 can be worked out
    from all of them together (see "Three-way tables" above).
    """
    _check_threshold(k)
    for key in counts:
        if not isinstance(key, tuple) or len(key) != 2:
            raise ValueError(f"segment {key!r} must be a pair (first, second)")
    firsts = tuple(dict.fromkeys(first for first, _ in counts))
    seconds = tuple(dict.fromkeys(second for _, second in counts))
    if columns is None:
        columns = tuple(dict.fromkeys(c for segment in counts.values() for c in segment))
    else:
        columns = tuple(columns)
        for key, segment in counts.items():
            for column in segment:
                if column not in columns:
                    raise ValueError(f"segment {key!r} has a count for {column!r}, not in columns")
    interior = [
        _count(counts.get((first, second), {}).get(column, 0), f"{first!r}, {second!r}, {column!r}")
        for first in firsts
        for second in seconds
        for column in columns
    ]
    cube = _Cube((len(firsts), len(seconds), len(columns)), interior, k)
    cube.hide_small()
    cube.protect()

    figures = [
        _figure_of(count, hidden, k) for count, hidden in zip(cube.counts, cube.hidden, strict=True)
    ]
    first_labels: tuple[str | None, ...] = (*firsts, None)
    second_labels: tuple[str | None, ...] = (*seconds, None)
    column_labels: tuple[str | None, ...] = (*columns, None)
    by_labels = dict(
        zip(
            itertools.product(first_labels, second_labels, column_labels),
            figures,
            strict=True,
        )
    )
    return SuppressedCube(
        k,
        firsts,
        seconds,
        columns,
        {(f, s, c): by_labels[f, s, c] for f in firsts for s in seconds for c in columns},
        {(f, s): by_labels[f, s, None] for f in firsts for s in seconds},
        {(f, c): by_labels[f, None, c] for f in firsts for c in columns},
        {(s, c): by_labels[None, s, c] for s in seconds for c in columns},
        {c: by_labels[None, None, c] for c in columns},
        {f: by_labels[f, None, None] for f in firsts},
        {s: by_labels[None, s, None] for s in seconds},
        by_labels[None, None, None],
    )


# --------------------------------------------------------------------------- the engine


@dataclass
class _Entry:
    """One figure as an edge between its two lines' nodes, in the cycle model.

    ``u`` is a node on the rows' side, ``v`` on the columns' side. Every node
    says "the signed figures meeting here add up to 0"; a figure is
    ``sign * z`` where ``z`` is its signed value (totals have sign -1, so that
    row i reads ``cells - row total = 0``). ``parents`` are the totals of the
    lines in which this figure is a part (not the total).
    """

    u: int
    v: int
    sign: int
    count: int
    tier: int
    parents: tuple[int, ...]
    hidden: HiddenBecause | None = field(default=None)
    published: bool = False
    """Shown in another publication: it may never be hidden as a complement here."""


def _keep_as_published(entry: _Entry, figure: Figure) -> None:
    if figure.count != entry.count:
        raise ValueError(f"a published figure of {figure.count} stands for {entry.count} here")
    if figure.shown:
        entry.published = True
    else:
        entry.hidden = figure.hidden_because


def _check_threshold(k: int) -> None:
    if k < 3:
        raise ValueError(f"k must be at least 3 (with k={k}, '<{k}' would say the count is 1)")


def _count(value: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"count for {where} must be a whole number of 0 or more, got {value!r}")
    return value


def _hide_small(entries: list[_Entry], k: int) -> None:
    for entry in entries:
        if entry.hidden is None and 0 < entry.count < k:
            entry.hidden = HiddenBecause.SMALL


def _figure(entry: _Entry, k: int) -> Figure:
    return _figure_of(entry.count, entry.hidden, k)


def _figure_of(count: int, hidden: HiddenBecause | None, k: int) -> Figure:
    return Figure(count, hidden, display(count, hidden is None, k))


def _bounds(entries: list[_Entry], k: int) -> list[tuple[int, float]]:
    """What a reader can tell of each hidden figure from how it reads (see module doc)."""
    bounds: list[tuple[int, float]] = []
    for entry in entries:
        if entry.hidden is None:
            bounds.append((entry.count, entry.count))
        elif entry.count >= k:
            bounds.append((k, float("inf")))
        else:
            in_small_line = any(
                entries[p].hidden is not None and entries[p].count < k for p in entry.parents
            )
            bounds.append((0 if in_small_line else 1, k - 1))
    return bounds


def _protect(entries: list[_Entry], row_side_nodes: int, k: int) -> None:
    """Hide complements until no hidden non-zero count is exposed."""
    if not any(entry.hidden for entry in entries):
        return
    bounds = _bounds(entries, k)
    adjacency: dict[int, list[int]] = {}
    for index, entry in enumerate(entries):
        adjacency.setdefault(entry.u, []).append(index)
        adjacency.setdefault(row_side_nodes + entry.v, []).append(index)
    total_count = sum(entry.count for entry in entries if entry.tier == _CELL)
    penalty = {
        _CELL: 0,
        _LINE_TOTAL: total_count + 1,
        _GRAND_TOTAL: (len(entries) + 1) * (2 * total_count + 1),
    }
    network = _Network(entries, bounds, adjacency, row_side_nodes, penalty, k)
    safe: set[int] = set()
    while True:
        exposed = next(
            (
                index
                for index, entry in enumerate(entries)
                if entry.hidden and entry.count > 0 and index not in safe
                if not network.protected(index, safe)
            ),
            None,
        )
        if exposed is None:
            return
        cycle = network.cheapest_cycle(exposed)
        if cycle is None:
            raise SuppressionError(
                "a small count in this table cannot be protected even by hiding every "
                "figure: publish it with fewer rows or columns, or a lower k"
            )
        for index in cycle:
            if entries[index].hidden is None:
                entries[index].hidden = HiddenBecause.COMPLEMENTARY
                bounds[index] = (k, float("inf"))
        safe.update(cycle)


@dataclass
class _Network:
    """Searches for cycles along which one person can move (see module doc)."""

    entries: list[_Entry]
    bounds: list[tuple[int, float]]
    adjacency: dict[int, list[int]]
    row_side_nodes: int
    penalty: dict[int, int]
    k: int

    def protected(self, index: int, safe: set[int]) -> bool:
        """Whether the hidden figure at ``index`` lies on a feasible cycle of hidden figures."""
        for direction in (1, -1):
            cycle = self._cycle(index, direction, allow_shown=False)
            if cycle is not None:
                safe.update(cycle)
                return True
        return False

    def cheapest_cycle(self, index: int) -> list[int] | None:
        """The cheapest feasible cycle through ``index`` that may hide shown figures."""
        found = [
            cycle
            for direction in (1, -1)
            if (cycle := self._cycle(index, direction, allow_shown=True)) is not None
        ]
        return min(found, key=self._cost, default=None)

    def _cost(self, cycle: Iterable[int]) -> int:
        return sum(
            self.entries[i].count + self.penalty[self.entries[i].tier]
            for i in cycle
            if self.entries[i].hidden is None
        )

    def _movable(self, index: int, change: int, allow_shown: bool) -> int | None:
        """The cost of moving the figure by ``change`` (None when it cannot move)."""
        entry = self.entries[index]
        if entry.hidden is None:
            # Once hidden it reads "x": it must stay at least k. Zeros never complement.
            if (
                not allow_shown
                or entry.published
                or entry.count < self.k
                or entry.count + change < self.k
            ):
                return None
            return entry.count + self.penalty[entry.tier]
        lower, upper = self.bounds[index]
        return 0 if lower <= entry.count + change <= upper else None

    def _cycle(self, index: int, direction: int, allow_shown: bool) -> list[int] | None:
        """Entries of a cheapest cycle moving ``index``'s signed value by ``direction``."""
        start = self.entries[index]
        if self._movable(index, direction * start.sign, allow_shown=False) is None:
            return None
        u_node, v_node = start.u, self.row_side_nodes + start.v
        # Going round u -> v over `index`, the rest of the cycle leads from v back to u.
        source, target = (v_node, u_node) if direction == 1 else (u_node, v_node)
        best: dict[int, int] = {source: 0}
        came_by: dict[int, int] = {}
        order = itertools.count()
        queue = [(0, next(order), source)]
        while queue:
            cost, _, node = heapq.heappop(queue)
            if node == target:
                break
            if cost > best.get(node, cost):
                continue
            for edge in self.adjacency[node]:
                if edge == index:
                    continue
                entry = self.entries[edge]
                # From the rows' side to the columns' side the signed value goes up by 1.
                if node == entry.u:
                    step, change = self.row_side_nodes + entry.v, entry.sign
                else:
                    step, change = entry.u, -entry.sign
                edge_cost = self._movable(edge, change, allow_shown)
                if edge_cost is None:
                    continue
                new_cost = cost + edge_cost
                if new_cost < best.get(step, new_cost + 1):
                    best[step] = new_cost
                    came_by[step] = edge
                    heapq.heappush(queue, (new_cost, next(order), step))
        if target not in came_by:
            return None
        cycle = [index]
        node = target
        while node != source:
            edge = came_by[node]
            cycle.append(edge)
            entry = self.entries[edge]
            v_side = self.row_side_nodes + entry.v
            node = entry.u if node == v_side else v_side
        return cycle


# --------------------------------------------------------------------------- three-way tables


class _Cube:
    """The three-way engine: every figure of a cube, totals included, on one grid.

    Each dimension runs over its values and then ``+`` (all of them), so a
    figure ``(a, b, c)`` with a ``+`` is a total and ``(+, +, +)`` the grand
    total; its tier is how many ``+`` it has. A figure's id is its place in
    that grid, row by row. ``up`` and ``down`` hold what moving a figure by one
    person costs (see :meth:`_move_cost`), kept up to date as figures are hidden.
    """

    def __init__(self, sizes: tuple[int, int, int], interior: Sequence[int], k: int) -> None:
        self.k = k
        self.sizes = (sizes[0] + 1, sizes[1] + 1, sizes[2] + 1)
        self.plus = sizes
        self.strides = (self.sizes[1] * self.sizes[2], self.sizes[2], 1)
        n = self.sizes[0] * self.strides[0]
        self.counts = [0] * n
        cells = itertools.product(*map(range, sizes))
        for value, (i, j, v) in zip(interior, cells, strict=True):
            if value:
                for a, b, c in itertools.product((i, sizes[0]), (j, sizes[1]), (v, sizes[2])):
                    self.counts[self._id(a, b, c)] += value
        self.coords = list(itertools.product(*map(range, self.sizes)))
        self.tiers = [
            sum(x == p for x, p in zip(xyz, self.plus, strict=True)) for xyz in self.coords
        ]
        self.hidden: list[HiddenBecause | None] = [None] * n
        self.bounds: list[tuple[int, float]] = []
        self.up: list[int] = []
        self.down: list[int] = []
        # As in the two-way engine, a total costs more than any set of cells, a
        # total of totals more than any set of those, the grand total most.
        self.penalty = [0]
        for _ in range(3):
            self.penalty.append((n + 1) * (self.penalty[-1] + self.counts[-1] + 1))

    def hide_small(self) -> None:
        """Primary suppression: counts below ``k``, and all that lies under a total below ``k``."""
        for figure, count in enumerate(self.counts):
            if 0 < count < self.k:
                self.hidden[figure] = HiddenBecause.SMALL
                if self.tiers[figure]:
                    for part in self._under(figure):
                        self.hidden[part] = HiddenBecause.SMALL

    def protect(self) -> None:
        """Hide complements until every hidden count other than 0 lies on a feasible prism."""
        self.bounds = [self._bounds(figure) for figure in range(len(self.counts))]
        self.up = [self._move_cost(figure, 1) for figure in range(len(self.counts))]
        self.down = [self._move_cost(figure, -1) for figure in range(len(self.counts))]
        # A prism stays feasible as more figures are hidden (hidden figures keep
        # their bounds), so every figure on one found is safe for good.
        safe: set[int] = set()
        for figure in sorted(range(len(self.counts)), key=lambda f: (self.tiers[f], f)):
            if self.hidden[figure] is None or self.counts[figure] == 0 or figure in safe:
                continue
            # A prism of hidden figures costs nothing; look for one of those first.
            prism = self._cheapest_prism(figure, limit=0) or self._cheapest_prism(figure, None)
            if prism is None:
                raise SuppressionError(
                    "a small count in this three-way table could not be protected by hiding "
                    "other figures: publish coarser categories, or one dimension at a time"
                )
            for member in prism:
                if self.hidden[member] is None:
                    self.hidden[member] = HiddenBecause.COMPLEMENTARY
                    self.bounds[member] = (self.k, float("inf"))
                    self.up[member] = self._move_cost(member, 1)
                    self.down[member] = self._move_cost(member, -1)
            safe.update(prism)

    def _id(self, a: int, b: int, c: int) -> int:
        return a * self.strides[0] + b * self.strides[1] + c

    def _under(self, figure: int) -> Iterable[int]:
        """Every figure that adds up into ``figure``, down to the cells, itself included."""
        ranges = [
            range(size) if x == plus else (x,)
            for x, plus, size in zip(self.coords[figure], self.plus, self.sizes, strict=True)
        ]
        return (self._id(a, b, c) for a, b, c in itertools.product(*ranges))

    def _parents(self, figure: int) -> Iterable[int]:
        """The totals of the lines in which ``figure`` is a part."""
        return (
            figure + (plus - x) * stride
            for x, plus, stride in zip(self.coords[figure], self.plus, self.strides, strict=True)
            if x != plus
        )

    def _bounds(self, figure: int) -> tuple[int, float]:
        """What a reader can tell of a figure from how it reads (see module doc)."""
        count = self.counts[figure]
        if self.hidden[figure] is None:
            return count, count
        if count >= self.k:
            return self.k, float("inf")
        in_small_line = any(
            self.hidden[p] is not None and self.counts[p] < self.k for p in self._parents(figure)
        )
        return (0 if in_small_line else 1), self.k - 1

    def _move_cost(self, figure: int, change: int) -> int:
        """The cost of moving a figure by ``change``: 0 when hidden, -1 when it cannot move."""
        count = self.counts[figure]
        if self.hidden[figure] is None:
            # Once hidden it reads "x": it must stay at least k. Zeros never complement.
            if count < self.k or count + change < self.k:
                return -1
            return count + self.penalty[self.tiers[figure]]
        lower, upper = self.bounds[figure]
        return 0 if lower <= count + change <= upper else -1

    def _cheapest_prism(self, figure: int, limit: int | None) -> list[int] | None:
        """The figures of a cheapest feasible prism through ``figure`` costing at most ``limit``.

        A prism is a cycle of the two-way engine in one slice of the cube, and
        the same cycle in a parallel slice with the opposite moves (or the same
        moves, when that slice is the slice of totals): every line of the cube
        still adds up, so one person is moved around it without changing any
        figure outside it. The 2 x 2 x 2 hypercube of tau-argus is the prism of
        a 4-cycle. Candidates go cheapest mirror figure first, and each search
        stops at the cost of the best prism so far.
        """
        coords = self.coords[figure]
        candidates: list[tuple[int, int, int, int]] = []
        for axis in range(3):
            here, plus, stride = coords[axis], self.plus[axis], self.strides[axis]
            for there in range(self.sizes[axis]):
                if there == here:
                    continue
                mirror = 1 if plus in (here, there) else -1
                partner = figure + (there - here) * stride
                for change in (1, -1):
                    if (self.up if change > 0 else self.down)[figure] != 0:
                        continue
                    cost = (self.up if change * mirror > 0 else self.down)[partner]
                    if cost >= 0 and (limit is None or cost <= limit):
                        candidates.append((cost, axis, there, change))
        candidates.sort()
        best: tuple[int, list[int]] | None = None
        for partner_cost, axis, there, change in candidates:
            ceiling = limit if best is None else best[0] - 1
            if ceiling is not None and partner_cost > ceiling:
                break
            budget = None if ceiling is None else ceiling - partner_cost
            found = self._cycle(figure, axis, there, change, budget)
            if found is not None:
                best = (partner_cost + found[0], found[1])
                if best[0] == 0:
                    break
        return None if best is None else best[1]

    def _cycle(
        self, figure: int, axis: int, there: int, change: int, budget: int | None
    ) -> tuple[int, list[int]] | None:
        """A cheapest prism moving ``figure`` by ``change``, mirrored in slice ``there``.

        In the slice (a two-way table with its totals) rows and columns are
        nodes and figures edges, as in the two-way engine: crossing a figure
        from its row to its column moves it by its sign (+1 for cells and the
        grand total, -1 for row and column totals), the other way by minus that.
        """
        y_axis, z_axis = (a for a in range(3) if a != axis)
        rows, columns = self.sizes[y_axis], self.sizes[z_axis]
        row_stride, column_stride = self.strides[y_axis], self.strides[z_axis]
        coords = self.coords[figure]
        here, y_start, z_start = coords[axis], coords[y_axis], coords[z_axis]
        mirror = 1 if self.plus[axis] in (here, there) else -1
        base = figure - y_start * row_stride - z_start * column_stride
        other = base + (there - here) * self.strides[axis]
        start_sign = 1 if (y_start == rows - 1) == (z_start == columns - 1) else -1
        # Row y is node y, column z node rows + z.
        if change * start_sign == 1:
            source, target = rows + z_start, y_start
        else:
            source, target = y_start, rows + z_start
        moves = {1: self.up, -1: self.down}
        best = {source: 0}
        came_by: dict[int, tuple[int, int]] = {}
        queue = [(0, source)]
        while queue:
            cost, node = heapq.heappop(queue)
            if node == target:
                break
            if cost > best[node]:
                continue
            if node < rows:  # along row `node`, to each column
                line, stride, length, next_base = node * row_stride, column_stride, columns, rows
                skip = z_start if node == y_start else -1
                moved = 1 if node != rows - 1 else -1
            else:  # along column `node - rows`, to each row
                line, stride, length, next_base = (node - rows) * column_stride, row_stride, rows, 0
                skip = y_start if node - rows == z_start else -1
                moved = -1 if node - rows != columns - 1 else 1
            # The figures of the line, in this slice and the mirror one; the
            # line's total (its last figure) moves the other way.
            end = line + (length - 1) * stride + 1
            here_costs = moves[moved][base + line : base + end : stride]
            there_costs = moves[moved * mirror][other + line : other + end : stride]
            here_costs[-1] = moves[-moved][base + end - 1]
            there_costs[-1] = moves[-moved * mirror][other + end - 1]
            for position, (cost_here, cost_there) in enumerate(
                zip(here_costs, there_costs, strict=True)
            ):
                if cost_here < 0 or cost_there < 0 or position == skip:
                    continue
                new_cost = cost + cost_here + cost_there
                if budget is not None and new_cost > budget:
                    continue
                step = next_base + position
                if new_cost < best.get(step, new_cost + 1):
                    best[step] = new_cost
                    came_by[step] = (node, line + position * stride)
                    heapq.heappush(queue, (new_cost, step))
        if target not in came_by:
            return None
        members = [figure, other + y_start * row_stride + z_start * column_stride]
        node = target
        while node != source:
            node, offset = came_by[node]
            members += [base + offset, other + offset]
        return best[target], members
