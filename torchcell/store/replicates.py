"""Merging replicate measurements of one genotype in one environment.

Replicates are the measurements that share a ``genotype`` (``torchcell.schema.genotype_key``:
genes, alleles, environment). Their stored labels are combined as follows:

* values (``fitness``, ``gene_interaction``, ``emap_score``): the mean of the measured values;
* ``fitness_std``, the *measurement* SD (of the colonies behind one measurement): the root
  mean square of the replicates' SDs, i.e. the typical SD of one measurement. It stays a
  measurement SD and does not shrink with the number of replicates;
* ``fitness_se`` / ``gene_interaction_se``, the standard error of the merged mean: the
  between-replicate sample SD over √n where there are n ≥ 2 measured values, and absent for a
  single measurement (one measurement says nothing about the spread between replicates);
* ``gene_interaction_p_value``: Stouffer's method on *signed* z-scores. A two-sided P-value p
  of a score s becomes z = sign(s)·Φ⁻¹(1 − p/2); the combined Z = Σz/√n gives the two-sided
  P-value 2(1 − Φ(|Z|)). Scores of opposite sign cancel (ε of +0.1 and −0.1, each p = 0.01,
  combine to p = 1), where Fisher's method, which ignores the sign, would call them strong.

A single measurement passes through unchanged (its ``*_se`` labels stay absent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

from torchcell.schema import EXPERIMENT_LABELS

STORED_LABELS = EXPERIMENT_LABELS
"""The labels an Experiment node holds; a dataset's other labels are derived when merging."""
STANDARD_ERRORS = {"fitness_se": "fitness", "gene_interaction_se": "gene_interaction"}
MEASUREMENT_SD = {"fitness_std"}
P_VALUES = {"gene_interaction_p_value": "gene_interaction"}

_NORMAL = NormalDist()
_TINY = 1e-300


def signed_stouffer(p_values: Sequence[float], scores: Sequence[float]) -> float:
    """Two-sided combined P-value of two-sided ``p_values`` whose direction is ``scores``' sign."""
    z = []
    for p, score in zip(p_values, scores, strict=True):
        sign = (score > 0) - (score < 0)
        z.append(sign * _NORMAL.inv_cdf(1.0 - max(p, _TINY) / 2.0) if p < 1.0 else 0.0)
    total = abs(sum(z)) / math.sqrt(len(z))
    return min(1.0, 2.0 * (1.0 - _NORMAL.cdf(total)))


def _standard_error(values: list[float]) -> float | None:
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) / math.sqrt(n)


def merge(labels: Sequence[str], rows: Sequence[dict[str, float | None]]) -> list[float | None]:
    """One label vector (in ``labels``' order) from replicate rows of stored labels."""
    out: list[float | None] = []
    for label in labels:
        if label in STANDARD_ERRORS:
            source = STANDARD_ERRORS[label]
            out.append(_standard_error([r[source] for r in rows if r.get(source) is not None]))
            continue
        values = [r[label] for r in rows if r.get(label) is not None]
        if not values:
            out.append(None)
        elif len(rows) == 1:
            out.append(values[0])
        elif label in MEASUREMENT_SD:
            out.append(math.sqrt(sum(v * v for v in values) / len(values)))
        elif label in P_VALUES:
            score = P_VALUES[label]
            pairs = [
                (r[label], r[score])
                for r in rows
                if r.get(label) is not None and r.get(score) is not None
            ]
            out.append(signed_stouffer(*zip(*pairs, strict=True)) if pairs else None)
        else:
            out.append(sum(values) / len(values))
    return out
