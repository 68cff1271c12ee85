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
    "SuppressedTable",
    "SuppressionError",
    "display",
    "suppress_counts",
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
) -> SuppressedTable:
    """Hide what would single people out of a rows-by-columns table and its totals.

    ``counts`` maps each row to its counts per column; a column a row does not
    mention counts 0. ``columns`` gives the columns and their order (default:
    every column mentioned, in order of first mention). Row totals, column totals
    and the grand total are the sums of the cells.
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
    shown = entry.hidden is None
    return Figure(entry.count, entry.hidden, display(entry.count, shown, k))


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
            if not allow_shown or entry.count < self.k or entry.count + change < self.k:
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
