"""The attacker of published tables: the exact range of every hidden figure.

A reader sees only the published text (numbers, ``<k`` and ``x``) and the
lines that tie the figures together (``total = sum of parts``), and solves
linear programmes for the smallest and largest value of every hidden figure.
Suppression is safe when no hidden count other than 0 is pinned to one value.
The solver is a small two-phase simplex over numpy arrays (scipy is not
installed; numpy comes with pandas): Dantzig's rule, and Bland's rule once
degenerate steps pile up, so it cannot cycle. Three-way tables need LPs of a
few hundred rows, too slow for a simplex over Python lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from polls.analysis import COMPLEMENTARY_MARKER

EPS = 1e-9
INF = float("inf")
_BLAND_AFTER = 50
"""Degenerate pivots in a row after which the simplex switches to Bland's rule."""
_PIVOT = 1e-7
"""The smallest entry pivoted on: smaller ones are rounding errors of 0."""
_ZERO = 1e-11

Tableau = npt.NDArray[np.float64]
Vector = npt.NDArray[np.float64]


@dataclass
class Published:
    """A table as a reader sees it: figures by name, the lines, and the threshold."""

    texts: dict[str, str]
    lines: list[tuple[str, list[str]]]  # (total, parts)
    k: int

    def bounds(self, name: str) -> tuple[float, float]:
        """What the text of a figure says about it."""
        text = self.texts[name]
        if text.isdigit():
            return (int(text), int(text))
        if text == COMPLEMENTARY_MARKER:
            return (self.k, INF)
        assert text == f"<{self.k}", text
        # Zeros are published, so a "<k" is at least 1, unless it is part of a
        # line whose total reads "<k": such lines are hidden whole, zeros included.
        in_small_line = any(self.texts[total] == f"<{self.k}" for total in self._totals_of[name])
        return (0 if in_small_line else 1, self.k - 1)

    def hidden(self) -> list[str]:
        return [name for name, text in self.texts.items() if not text.isdigit()]

    @cached_property
    def _totals_of(self) -> dict[str, list[str]]:
        """The totals of the lines each figure is a part of."""
        totals: dict[str, list[str]] = {name: [] for name in self.texts}
        for total, parts in self.lines:
            for part in parts:
                totals[part].append(total)
        return totals


@dataclass
class _Programme:
    """Minimise ``cost @ x`` subject to ``matrix @ x = rhs`` and ``x >= 0``."""

    matrix: Tableau
    rhs: Vector
    cost: Vector

    def canonical(self, basis: list[int]) -> Tableau:
        """The tableau for a basis computed afresh: rows, then reduced costs."""
        body = np.linalg.solve(self.matrix[:, basis], np.hstack([self.matrix, self.rhs[:, None]]))
        return np.vstack([body, np.append(self.cost, 0.0) - self.cost[basis] @ body])

    def minimise(self, tableau: Tableau, basis: list[int]) -> bool:
        """Simplex from a feasible tableau (reduced costs last); False when unbounded below.

        Pivoting piles up rounding; when the basic solution no longer solves
        the programme, the tableau is computed afresh from the basis.
        """
        for _ in range(3):
            bounded = _simplex(tableau, basis)
            solution = _solution(tableau, basis)
            if (
                np.allclose(self.matrix @ solution, self.rhs, atol=1e-6)
                and solution.min(initial=0.0) > -1e-6
            ):
                return bounded
            tableau[:] = self.canonical(basis)
        raise AssertionError("the simplex is lost in rounding")


def _solution(tableau: Tableau, basis: list[int]) -> Vector:
    solution = np.zeros(tableau.shape[1] - 1)
    solution[basis] = tableau[:-1, -1]
    return solution


def _pivot(tableau: Tableau, basis: list[int], row: int, column: int) -> None:
    tableau[row] /= tableau[row, column]
    factors = tableau[:, column].copy()
    factors[row] = 0.0
    touched = np.flatnonzero(factors)
    tableau[touched] -= np.outer(factors[touched], tableau[row])
    tableau[np.abs(tableau) < _ZERO] = 0.0
    basis[row] = column


def _simplex(tableau: Tableau, basis: list[int]) -> bool:
    """Pivot until the reduced costs (last row) are all >= 0; False when unbounded below."""
    rows = len(basis)
    degenerate = 0
    while True:
        costs = tableau[-1, :-1]
        if not costs.size:
            return True
        if degenerate < _BLAND_AFTER:  # once at Bland's rule, stay there
            entering = int(np.argmin(costs))
            if costs[entering] >= -EPS:
                return True
        else:
            improving = np.flatnonzero(costs < -EPS)
            if not improving.size:
                return True
            entering = int(improving[0])
        column = tableau[:rows, entering]
        candidates = np.flatnonzero(column > _PIVOT)
        if not candidates.size:
            return False
        ratios = np.maximum(tableau[candidates, -1], 0.0) / column[candidates]
        smallest = float(ratios.min())
        ties = candidates[ratios <= smallest + EPS]
        leaving = min((int(r) for r in ties), key=lambda r: basis[r])
        if degenerate < _BLAND_AFTER:
            degenerate = degenerate + 1 if smallest <= EPS else 0
        _pivot(tableau, basis, leaving, entering)


class Attacker:
    """The exact range of every hidden figure given everything published (an LP)."""

    def __init__(self, published: Published) -> None:
        self.names = published.hidden()
        position = {name: i for i, name in enumerate(self.names)}
        self.lower = [published.bounds(name)[0] for name in self.names]
        upper = [published.bounds(name)[1] for name in self.names]
        n = len(self.names)
        capped = [i for i in range(n) if upper[i] < INF]
        width = n + len(capped)
        rows: list[Vector] = []
        rhs: list[float] = []
        for total, parts in published.lines:
            coefficients = np.zeros(width)
            constant = 0.0
            for name, sign in [(total, -1.0)] + [(part, 1.0) for part in parts]:
                if name in position:
                    coefficients[position[name]] += sign
                    constant -= sign * self.lower[position[name]]
                else:
                    constant -= sign * int(published.texts[name])
            if coefficients.any():
                rows.append(coefficients)
                rhs.append(constant)
            else:
                assert abs(constant) < EPS, "the published figures contradict each other"
        lines = len(rows)
        for slack, i in enumerate(capped):  # x + slack = upper - lower
            row = np.zeros(width)
            row[i] = 1.0
            row[n + slack] = 1.0
            rows.append(row)
            rhs.append(upper[i] - self.lower[i])
        m = len(rows)
        matrix = np.array(rows).reshape(m, width)
        constants = np.array(rhs)
        flip = np.where(constants < 0, -1.0, 1.0)
        matrix *= flip[:, None]
        constants *= flip
        # Phase 1: an artificial variable per line (the bounds start from their
        # slacks), then drive them out of the basis. That basis is the identity:
        # the tableau is the programme itself.
        with_artificials = np.hstack([matrix, np.eye(m)[:, :lines]])
        phase_1 = _Programme(
            with_artificials, constants, np.concatenate([np.zeros(width), np.ones(lines)])
        )
        basis = [width + r for r in range(lines)] + [n + slack for slack in range(len(capped))]
        body = np.hstack([with_artificials, constants[:, None]])
        tableau = np.vstack([body, np.append(phase_1.cost, 0.0) - body[:lines].sum(axis=0)])
        assert phase_1.minimise(tableau, basis)
        assert abs(tableau[-1, -1]) < 1e-7, "infeasible"
        redundant = set()
        for r in range(m):
            if basis[r] >= width:
                nonzero = np.flatnonzero(np.abs(tableau[r, :width]) > _PIVOT)
                if nonzero.size:
                    _pivot(tableau, basis, r, int(nonzero[0]))
                else:
                    redundant.add(r)  # the line of its artificial follows from the others
        keep = [r for r in range(m) if r not in redundant]
        lines_kept = sorted(set(range(m)) - {basis[r] - width for r in redundant})
        self.matrix = matrix[lines_kept]
        self.rhs = constants[lines_kept]
        self.basis = [basis[r] for r in keep]
        self.body = np.hstack([tableau[keep, :width], tableau[keep, -1:]])
        self.width = width

    def _solve(self, i: int, *, largest: bool) -> Vector | None:
        """A solution (above the lower bounds) at the extreme of figure ``i``; None if unbounded."""
        cost = np.zeros(self.width)
        cost[i] = -1.0 if largest else 1.0
        objective = np.append(cost, 0.0) - cost[self.basis] @ self.body
        tableau = np.vstack([self.body, objective])
        basis = self.basis[:]
        if not _Programme(self.matrix, self.rhs, cost).minimise(tableau, basis):
            return None
        return _solution(tableau, basis)

    def extreme(self, name: str, *, largest: bool) -> float:
        i = self.names.index(name)
        solution = self._solve(i, largest=largest)
        if solution is None:
            return INF if largest else -INF
        return self.lower[i] + float(solution[i])

    def exposed(self, truth: Mapping[str, int]) -> list[str]:
        """Hidden figures other than zeros that the published table pins to one value.

        Every solution found also shows other figures away from their true
        values; those are not pinned, and need no programme of their own.
        """
        n = len(self.names)
        true = np.array([truth[name] for name in self.names], dtype=float)
        lower = np.array(self.lower)
        movable = np.zeros(n, dtype=bool)

        def seen(solution: Vector) -> None:
            movable[np.abs(lower + solution[:n] - true) > 0.5] = True

        found = []
        for i, name in enumerate(self.names):
            if truth[name] == 0 or movable[i]:
                continue
            solution = self._solve(i, largest=True)
            if solution is None:
                continue
            high = self.lower[i] + float(solution[i])
            assert high >= truth[name] - 1e-6
            seen(solution)
            if high > truth[name] + 0.5:
                continue
            solution = self._solve(i, largest=False)
            assert solution is not None
            low = self.lower[i] + float(solution[i])
            assert low <= truth[name] + 1e-6
            seen(solution)
            if low > truth[name] - 0.5:
                found.append(name)
        return found
