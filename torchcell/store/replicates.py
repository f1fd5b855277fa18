"""Merging replicate measurements of one genotype in one environment.

Means of the labels; the standard deviation of a mean of n independent measurements with
SDs σᵢ is √(Σσᵢ²)/n; P-values are combined with Fisher's method (−2 Σ ln pᵢ follows χ² with
2n degrees of freedom under the null). A single measurement passes through unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

STD_OF = {"fitness_std": "fitness"}
P_VALUES = {"gene_interaction_p_value"}


def fisher(p_values: Sequence[float]) -> float:
    """Fisher's combined P-value; closed form of the χ² survival function for even dof."""
    if any(p == 0 for p in p_values):
        return 0.0
    half = -sum(math.log(p) for p in p_values)  # x/2 with x = −2 Σ ln p
    term, total = 1.0, 1.0
    for k in range(1, len(p_values)):
        term *= half / k
        total += term
    return min(1.0, math.exp(-half) * total)


def merge(labels: list[str], rows: list[list[float | None]]) -> list[float | None]:
    """One label vector from the label vectors of replicates (``labels`` names the columns)."""
    if len(rows) == 1:
        return list(rows[0])
    merged: list[float | None] = []
    for j, label in enumerate(labels):
        values = [row[j] for row in rows if row[j] is not None]
        if not values:
            merged.append(None)
        elif label in STD_OF:
            merged.append(
                math.sqrt(sum(v * v for v in values)) / len(values)
                if len(values) == len(rows)
                else None
            )
        elif label in P_VALUES:
            merged.append(fisher(values))
        else:
            merged.append(sum(values) / len(values))
    return merged
