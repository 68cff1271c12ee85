"""Confidence intervals for a proportion.

The Wilson score interval stays inside 0..1 and keeps close to its nominal
coverage for the small groups and extreme shares micro-surveys produce, where
the textbook ``p ± z·√(p(1-p)/n)`` collapses to a point at 0 % or 100 %.
"""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for ``successes`` out of ``n``, as proportions 0..1.

    ``n == 0`` gives ``(0.0, 1.0)``: with nobody asked, every share is possible,
    and an empty breakdown should not stop a report. Counts may be fractional
    (a weighted share times the effective sample size).
    Raises ``ValueError`` when ``n < 0``, ``successes`` is outside ``0..n`` or
    ``confidence`` is outside ``(0, 1)``.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    if n == 0:
        return (0.0, 1.0)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    share = successes / n
    z2_n = z * z / n
    centre = (share + z2_n / 2) / (1 + z2_n)
    half_width = z / (1 + z2_n) * math.sqrt(share * (1 - share) / n + z2_n / (4 * n))
    # At 0 and n the formula gives the bound 0 or 1 up to rounding; state it exactly.
    lower = 0.0 if successes == 0 else max(0.0, centre - half_width)
    upper = 1.0 if successes == n else min(1.0, centre + half_width)
    return (lower, upper)
