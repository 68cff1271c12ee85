"""Analysis maths on aggregated answers: intervals, weighting, safe publication.

Pure functions over counts per cell, never over individual rows, so they cost
the same for a hundred respondents as for a million.
"""

from polls.analysis.intervals import wilson_interval
from polls.analysis.suppression import (
    COMPLEMENTARY_MARKER,
    Figure,
    HiddenBecause,
    SuppressedCounts,
    SuppressedCube,
    SuppressedTable,
    SuppressionError,
    display,
    suppress_counts,
    suppress_cube,
    suppress_table,
)
from polls.analysis.weighting import (
    MARGIN_DIMENSIONS,
    Cell,
    Margins,
    MarginsFileError,
    RakingResult,
    effective_sample_size,
    load_margins,
    parse_margins,
    rake,
    rake_units,
    weighted_shares,
)

__all__ = [
    "COMPLEMENTARY_MARKER",
    "MARGIN_DIMENSIONS",
    "Cell",
    "Figure",
    "HiddenBecause",
    "Margins",
    "MarginsFileError",
    "RakingResult",
    "SuppressedCounts",
    "SuppressedCube",
    "SuppressedTable",
    "SuppressionError",
    "display",
    "effective_sample_size",
    "load_margins",
    "parse_margins",
    "rake",
    "rake_units",
    "suppress_counts",
    "suppress_cube",
    "suppress_table",
    "weighted_shares",
    "wilson_interval",
]
