"""Raking respondents' weights to population margins, and the margins files.

Raking (iterative proportional fitting) scales the weights of respondents so
that the weighted shares by region, by age band and by gender each match the
population's, one dimension after another until all of them hold. It works on
*cells*, the combinations of categories with how many respondents share each,
so a million respondents in a few hundred cells cost no more than a hundred.

Decisions:

- A respondent with no value for a dimension (``None`` or ``""``), or with a
  category the margins do not list, is not adjusted on that dimension and is
  adjusted on the others as usual; the shares among the respondents who have
  a listed category match the targets. Such categories and the number of
  respondents without a value are reported.
- A category in the margins that no respondent has cannot be matched: it is
  reported, and the other categories' targets are rescaled to sum to 1.
- Weights are scaled to a mean of 1 over the respondents, so the weighted
  number of respondents equals the actual number.

A margins file is CSV with the header ``dimension,category,share``, one line
per category::

    dimension,category,share
    region,Baku,0.24
    region,Absheron-Khizi,0.06
    ...
    gender,female,50.1%
    gender,male,49.9%

A share is a proportion from 0 to 1, or a percentage written with ``%``
(never a bare number above 1, which could be either). A dimension's shares
must add up to 1 (100 %) within 0.01 (1 %). Every problem in a file is
reported at once, each with its line, its field and what to do.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from polls.errors import OutreachError
from polls.survey_loader import SurveyFileError, SurveyProblem, closest, listing, read_file_text

__all__ = [
    "MARGIN_DIMENSIONS",
    "Cell",
    "Margins",
    "MarginsFileError",
    "RakingResult",
    "effective_sample_size",
    "load_margins",
    "parse_margins",
    "rake",
    "rake_units",
    "weighted_shares",
]

MARGIN_DIMENSIONS = ("region", "age_band", "gender")
"""The dimensions a margins file may give, unless the caller allows others."""

MARGINS_HEADER = ("dimension", "category", "share")
SHARE_SUM_TOLERANCE = 0.01

Cell = tuple[str | None, ...]
"""One category (or ``None`` for no value) per raked dimension, in the caller's order."""


# --------------------------------------------------------------------------- margins


@dataclass(frozen=True)
class Margins:
    """Population shares per category, per dimension: ``shares[dimension][category]``."""

    shares: Mapping[str, Mapping[str, float]]
    source: str = "<margins>"

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.shares)


class MarginsFileError(OutreachError):
    """A margins file that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Iterable[SurveyProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


def load_margins(
    path: str | os.PathLike[str], *, dimensions: Sequence[str] = MARGIN_DIMENSIONS
) -> Margins:
    """Read and validate a UTF-8 margins file (see the module doc for the format)."""
    source = os.fspath(path)
    try:
        text = read_file_text(source)
    except SurveyFileError as exc:
        raise MarginsFileError(exc.problems) from exc
    return parse_margins(text, source=source, dimensions=dimensions)


def parse_margins(
    text: str, *, source: str = "<margins>", dimensions: Sequence[str] = MARGIN_DIMENSIONS
) -> Margins:
    """Validate margins CSV text; ``source`` names it in problems.

    Raises :class:`MarginsFileError` listing every problem, each with its line.
    """
    problems: list[SurveyProblem] = []

    def problem(line: int, field: str, message: str) -> None:
        problems.append(SurveyProblem(source, field, message, line))

    records = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    pending: list[str] | None = None  # a first line that is data, not a header
    for fields in records:
        if not any(f.strip() for f in fields):
            continue
        header = tuple(f.strip().lower() for f in fields)
        if header != MARGINS_HEADER:
            looks_like_data = len(fields) == len(MARGINS_HEADER) and (
                fields[0].strip() in dimensions or not isinstance(_parse_share(fields[2]), str)
            )
            found = ",".join(f.strip() for f in fields)
            problem(
                records.line_num,
                "header",
                f"the header line is missing: add {_header_text()} above this line"
                if looks_like_data
                else f"the first line reads {found!r}: it must be {_header_text()}",
            )
            pending = list(fields) if looks_like_data else None
        break
    else:
        problem(1, "header", f"the file is empty: start it with the line {_header_text()}")
        raise MarginsFileError(problems)
    first_data_line = records.line_num

    shares: dict[str, dict[str, float]] = {}
    lines: dict[str, dict[str, int]] = {}
    percent_lines: dict[str, dict[bool, int]] = {}
    data = records if pending is None else itertools.chain([pending], records)
    for fields in data:
        line = first_data_line if fields is pending else records.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(MARGINS_HEADER):
            problem(
                line,
                "",
                f"{len(fields)} fields where 3 are expected (dimension,category,share): "
                "remove extra commas, or quote a category that contains one",
            )
            continue
        dimension, category, share_text = (f.strip() for f in fields)
        known_dimension = dimension in dimensions
        if not dimension:
            problem(line, "dimension", f"missing: use one of {listing(dimensions)}")
        elif not known_dimension:
            hint = closest(dimension, dimensions)
            problem(
                line,
                "dimension",
                f"unknown dimension {dimension!r}: "
                + (f"did you mean {hint!r}? " if hint else "")
                + f"use one of {listing(dimensions)}",
            )
        if not category:
            problem(line, "category", "missing: name the category, e.g. a region")
        share = _parse_share(share_text)
        if isinstance(share, str):
            problem(line, "share", share)
        if not (known_dimension and category):
            continue
        seen = lines.setdefault(dimension, {})
        if category in seen:
            problem(
                line,
                "category",
                f"{dimension} {category!r} is already given on line {seen[category]}: "
                "keep one line per category",
            )
            continue
        seen[category] = line
        if not isinstance(share, str):
            percent = share_text.endswith("%")
            percent_lines.setdefault(dimension, {}).setdefault(percent, line)
            shares.setdefault(dimension, {})[category] = share

    for dimension, kinds in percent_lines.items():
        if len(kinds) == 2:
            problem(
                kinds[True],
                "share",
                f"{dimension} mixes percentages (line {kinds[True]}) and proportions "
                f"(line {kinds[False]}): write all of its shares the same way",
            )
    for dimension, categories in lines.items():
        if dimension not in shares or len(shares[dimension]) != len(categories):
            continue  # a bad share was already reported; its sum would mislead
        total = math.fsum(shares[dimension].values())
        if abs(total - 1.0) > SHARE_SUM_TOLERANCE + 1e-9:  # 0.99 must pass despite rounding
            as_percent = percent_lines.get(dimension, {}).get(True) is not None
            shown = f"{round(total * 100, 2):g}%" if as_percent else f"{round(total, 4):g}"
            wanted = "100%" if as_percent else "1"
            problem(
                min(categories.values()),
                "share",
                f"the shares of {dimension} add up to {shown}, not {wanted}: correct them, "
                "or add the missing categories",
            )
    if not lines and not problems:
        problem(first_data_line, "", "no categories: add one line per category after the header")
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise MarginsFileError(problems)
    return Margins(shares, source)


def _parse_share(text: str) -> float | str:
    """The share as a proportion, or what is wrong with it."""
    example = "give a proportion from 0 to 1, such as 0.25, or a percentage, 25%"
    if not text:
        return f"missing: {example}"
    percent = text.endswith("%")
    try:
        value = float(text.removesuffix("%").strip())
    except ValueError:
        return f"{text!r} is not a number: {example}"
    if not math.isfinite(value):
        return f"{text!r} is not a number: {example}"
    if percent:
        return value / 100 if 0.0 <= value <= 100.0 else f"{text} is outside 0% to 100%"
    if 0.0 <= value <= 1.0:
        return value
    hint = f", or as {value:g}% if it is a percentage" if 1 < value <= 100 else ""
    return f"{text} is outside 0 to 1: write it as a proportion{hint}"


def _header_text() -> str:
    return repr(",".join(MARGINS_HEADER))


# --------------------------------------------------------------------------- raking


@dataclass(frozen=True)
class RakingResult:
    """Weights per cell, and what a person checking the weighting needs to know."""

    weights: dict[Cell, float]
    """The weight of each respondent in the cell; the mean over respondents is 1."""
    iterations: int
    converged: bool
    max_error: float
    """The largest gap between a weighted share and its target, after weighting."""
    effective_sample_size: float
    unknown_categories: dict[str, dict[str, int]]
    """Per dimension, categories of respondents that the margins do not list, with counts."""
    empty_categories: dict[str, list[str]]
    """Per dimension, categories of the margins that no respondent has."""
    missing_values: dict[str, int]
    """Per dimension, respondents with no value for it."""


def rake(
    cells: Mapping[Cell, int],
    margins: Margins,
    *,
    dimensions: Sequence[str],
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> RakingResult:
    """Rake the respondents counted in ``cells`` to ``margins``.

    ``cells`` maps a combination of categories, one per name in ``dimensions``
    (``None`` for no value), to how many respondents have it. Iteration stops
    when every weighted share is within ``tolerance`` of its target, or after
    ``max_iterations`` sweeps over the dimensions (``converged`` is then False,
    as when the sample cannot match the margins at all).
    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
    for dimension in dimensions:
        if dimension not in margins.shares:
            raise ValueError(f"the margins have no {dimension!r}: rake on {margins.dimensions}")
    for cell, count in cells.items():
        if len(cell) != len(dimensions):
            raise ValueError(f"cell {cell!r} has {len(cell)} categories for {len(dimensions)}")
        if count < 0:
            raise ValueError(f"cell {cell!r} has a negative count {count}")
    keys = [cell for cell, count in cells.items() if count > 0]
    counts = [cells[cell] for cell in keys]
    respondents = sum(counts)
    if respondents == 0:
        raise ValueError("there are no respondents to weight")

    unknown: dict[str, dict[str, int]] = {}
    missing: dict[str, int] = {}
    empty: dict[str, list[str]] = {}
    targets: list[dict[str, float]] = []
    for position, dimension in enumerate(dimensions):
        listed = margins.shares[dimension]
        present: dict[str, int] = {}
        for cell, count in zip(keys, counts, strict=True):
            value = cell[position]
            if value is None or value == "":
                missing[dimension] = missing.get(dimension, 0) + count
            elif value in listed:
                present[value] = present.get(value, 0) + count
            else:
                unknown.setdefault(dimension, {})
                unknown[dimension][value] = unknown[dimension].get(value, 0) + count
        absent = [category for category in listed if category not in present]
        if absent:
            empty[dimension] = absent
        shares = {category: listed[category] for category in present}
        total_share = math.fsum(shares.values())
        targets.append({c: s / total_share for c, s in shares.items()} if total_share > 0 else {})

    weights = [1.0] * len(keys)
    iterations = 0
    error = _max_error(keys, counts, weights, targets)
    while error > tolerance and iterations < max_iterations:
        iterations += 1
        for position, target in enumerate(targets):
            totals = _weighted_totals(keys, counts, weights, position, target)
            known = math.fsum(totals.values())
            factors = {
                category: target[category] * known / weight
                for category, weight in totals.items()
                if weight > 0
            }
            for index, cell in enumerate(keys):
                weights[index] *= factors.get(cell[position] or "", 1.0)
        error = _max_error(keys, counts, weights, targets)

    weighted = math.fsum(w * n for w, n in zip(weights, counts, strict=True))
    if weighted > 0:
        weights = [w * respondents / weighted for w in weights]
    return RakingResult(
        weights=dict(zip(keys, weights, strict=True)),
        iterations=iterations,
        converged=error <= tolerance,
        max_error=error,
        effective_sample_size=effective_sample_size(weights, counts),
        unknown_categories=unknown,
        empty_categories=empty,
        missing_values=missing,
    )


def rake_units(
    units: Sequence[Mapping[str, str | None]],
    margins: Margins,
    *,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> tuple[list[float], RakingResult]:
    """Rake individual respondents on every dimension of ``margins``.

    Returns one weight per unit, in order, and the result for their cells.
    A dimension a unit does not mention counts as no value.
    """
    dimensions = margins.dimensions
    unit_cells: list[Cell] = [tuple(unit.get(d) for d in dimensions) for unit in units]
    cells: dict[Cell, int] = {}
    for cell in unit_cells:
        cells[cell] = cells.get(cell, 0) + 1
    result = rake(
        cells,
        margins,
        dimensions=dimensions,
        max_iterations=max_iterations,
        tolerance=tolerance,
    )
    return [result.weights[cell] for cell in unit_cells], result


def effective_sample_size(weights: Iterable[float], counts: Iterable[int] | None = None) -> float:
    """Kish's effective sample size, (Σw)² / Σw², of weighted respondents.

    It says how many unweighted respondents would give estimates as precise;
    use it as ``n`` in :func:`~polls.analysis.wilson_interval`. With ``counts``,
    the i-th weight is that of each of the i-th count's respondents (a cell).
    """
    pairs: Iterable[tuple[float, int]] = (
        ((weight, 1) for weight in weights) if counts is None else zip(weights, counts, strict=True)
    )
    total = 0.0
    squares = 0.0
    for weight, count in pairs:
        total += weight * count
        squares += weight * weight * count
    return total * total / squares if squares > 0 else 0.0


def weighted_shares(
    answers: Mapping[Cell, Mapping[str, int]],
    weights: Mapping[Cell, float],
    *,
    categories: Sequence[str] | None = None,
    answered: Mapping[Cell, int] | None = None,
) -> dict[str, float]:
    """The weighted share of each answer to a question.

    ``answers`` maps a cell to its counts per answer; ``weights`` is
    :attr:`RakingResult.weights`. ``categories`` gives the answers to report and
    their order (default: every answer met, in order of meeting), zeros included.
    Shares are of all answers; for a multiple-choice question pass ``answered``,
    the respondents per cell who answered it, to get shares of respondents
    (which then add up to more than 1).
    """
    totals: dict[str, float] = dict.fromkeys(categories or (), 0.0)
    denominator = 0.0
    for cell, counts in answers.items():
        if cell not in weights:
            raise ValueError(f"no weight for cell {cell!r}: rake with the same cells")
        weight = weights[cell]
        for answer, count in counts.items():
            if categories is not None and answer not in totals:
                raise ValueError(f"answer {answer!r} is not one of {list(categories)}")
            totals[answer] = totals.get(answer, 0.0) + weight * count
            if answered is None:
                denominator += weight * count
    if answered is not None:
        for cell, count in answered.items():
            if cell not in weights:
                raise ValueError(f"no weight for cell {cell!r}: rake with the same cells")
            denominator += weights[cell] * count
    if denominator == 0:
        return dict.fromkeys(totals, 0.0)
    return {answer: total / denominator for answer, total in totals.items()}


def _weighted_totals(
    keys: list[Cell],
    counts: list[int],
    weights: list[float],
    position: int,
    target: Mapping[str, float],
) -> dict[str, float]:
    totals = dict.fromkeys(target, 0.0)
    for cell, count, weight in zip(keys, counts, weights, strict=True):
        value = cell[position]
        if value is not None and value in totals:
            totals[value] += weight * count
    return totals


def _max_error(
    keys: list[Cell],
    counts: list[int],
    weights: list[float],
    targets: list[dict[str, float]],
) -> float:
    error = 0.0
    for position, target in enumerate(targets):
        totals = _weighted_totals(keys, counts, weights, position, target)
        known = math.fsum(totals.values())
        for category, share in target.items():
            actual = totals[category] / known if known > 0 else 0.0
            error = max(error, abs(actual - share))
    return error
