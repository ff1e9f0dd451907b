"""Social metrics of a policy facing a population: per group, overall, and the disparities between groups.

Every population game reports the same five quantities per decision subject (a stateful agent type, a persuaded
applicant), then :func:`social_metrics` averages them with the population's weights, per group and overall:

* ``improvement``: real improvement: the share of the effort budget spent on effort the principal values
  (stateful: ``lambda_j > 0``), or the probability of taking a desirable action (persuasion: ``u_P > 0``);
* ``gaming``: effort that does not improve: the share of the budget on types with ``lambda_j <= 0``, or the
  probability of an undesirable action other than doing nothing;
* ``recourse``: the probability of a positive decision after acting (stateful: the last round's score reaches
  the population's ``threshold``; persuasion: ``theta . (x_0 + Delta(a)) >= 0`` for the action taken);
* ``welfare``: the agent's utility net of its cost (stateful ``U_A``, which has no cost; persuasion ``E[u_A]``);
* ``principal``: the principal's utility (stateful ``U_P``, persuasion ``E[u_P]``).

The stateful game adds ``state_gain``, the accumulated state (the improvement that lasts).

Disparities, for every metric over the groups' values ``v_g``: ``difference = max_g v_g - min_g v_g`` (0 = parity)
and ``ratio = min_g v_g / max_g v_g`` (1 = parity; 1 when both are 0, NaN when the signs differ or the largest is
0 with a negative smallest: a ratio means nothing there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

#: The metrics every population game reports, in this order.
METRICS = ("improvement", "gaming", "recourse", "welfare", "principal")


@dataclass(frozen=True)
class SocialMetrics:
    """A policy's metrics over a population.

    Attributes:
        overall: metric -> population average (weighted).
        groups: group label -> metric -> average within the group (weights renormalized in the group).
        disparity: metric -> ``{"difference": ..., "ratio": ...}`` across the groups (module docstring).
    """

    overall: dict[str, float]
    groups: dict[str, dict[str, float]]
    disparity: dict[str, dict[str, float]]

    def flat(self, prefix: str = "") -> dict[str, float]:
        """One flat dict for tables and ``info``: ``overall/<metric>``, ``group/<label>/<metric>``,
        ``disparity/<metric>/difference`` and ``.../ratio``, each key preceded by ``prefix``."""
        flat = {f"{prefix}overall/{name}": value for name, value in self.overall.items()}
        for label, values in self.groups.items():
            flat |= {f"{prefix}group/{label}/{name}": value for name, value in values.items()}
        for name, values in self.disparity.items():
            flat |= {f"{prefix}disparity/{name}/{kind}": value for kind, value in values.items()}
        return flat


def disparity(values: Sequence[float]) -> dict[str, float]:
    """``{"difference", "ratio"}`` of the group values ``values`` ``(G,)`` (module docstring): floats; for a batch
    ``(..., G)``, arrays ``(...)``."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim > 1:
        return _spread([values[..., index] for index in range(values.shape[-1])])
    return {name: float(value) for name, value in _spread([values.min(), values.max()]).items()}


def _spread(groups: Sequence) -> dict:
    """:func:`disparity` of the group values given group by group (``G`` numbers or same-shape arrays): one pass
    per group (numpy reduces a short last axis of a long batch many times slower)."""
    low = high = groups[0]
    for value in groups[1:]:
        low, high = np.minimum(low, value), np.maximum(high, value)
    with np.errstate(divide="ignore", invalid="ignore"):  # the quotients not chosen
        ratio = np.where(high == low, 1.0, np.where((low >= 0.0) & (high > 0.0), low / high,
                                                    # both non-positive: the ratio of magnitudes, smallest over largest
                                                    np.where((high <= 0.0) & (low < 0.0), high / low, np.nan)))
    return {"difference": high - low, "ratio": ratio}


def social_metrics(per_subject: Mapping[str, np.ndarray], weights, groups: Sequence[str]) -> SocialMetrics:
    """Average per-subject metrics ``per_subject`` (metric -> ``(N,)``) with ``weights`` ``(N,)`` (``>= 0``, positive
    sum), overall and within each label of ``groups`` (``N`` labels; groups in order of first appearance). A batch of
    populations' metrics (metric -> ``(..., N)``, the same shape) gives ``(...)`` arrays where one gives floats."""
    return SocialAverages(weights, groups)(per_subject)


class SocialAverages:
    """:func:`social_metrics` for fixed ``weights`` and ``groups``, checked and prepared once (an env averages at the
    end of every episode): call it with ``per_subject``. A batch is averaged every metric at once, elementwise in
    subject order (the same bits for a batch of one as for any batch), with one :func:`disparity` for all."""

    def __init__(self, weights, groups: Sequence[str]):
        weights = np.asarray(weights, dtype=np.float64)
        labels = list(groups)
        if weights.ndim != 1 or len(labels) != weights.shape[0] or weights.sum() <= 0 or np.any(weights < 0):
            raise ValueError(f"weights must be (N,) >= 0 with a positive sum and groups N labels, got {weights.shape} "
                             f"weights and {len(labels)} labels")
        self.order = list(dict.fromkeys(labels))
        masks = [np.ones(len(labels), dtype=bool)] + [np.array([g == label for g in labels]) for label in self.order]
        # Per average (everyone, then each group): its subjects and their weights renormalized; a group of weight 0
        # (possible when weights are 0) still gets its subjects' plain mean.
        self._averages = []
        for mask in masks:
            total = weights[mask].sum()
            w = weights[mask] / total if total > 0 else np.full(int(mask.sum()), 1.0 / mask.sum())
            self._averages.append((np.flatnonzero(mask), w))

    def __call__(self, per_subject: Mapping[str, np.ndarray]) -> SocialMetrics:
        names = list(per_subject)
        values = [np.asarray(per_subject[name], dtype=np.float64) for name in names]
        if values[0].ndim == 1:  # one population: floats
            averages = [{name: float(value[subjects] @ w) for name, value in zip(names, values)}
                        for subjects, w in self._averages]
            gaps = {name: disparity([group[name] for group in averages[1:]]) for name in names}
        else:  # subject-major (N, M, ...): each subject's metrics one contiguous block (batch-last inputs copy fast)
            # np.moveaxis(value, -1, 0) as one transpose: moveaxis's Python checks cost 4x the copy at small batches.
            axes = (values[0].ndim - 1,) + tuple(range(values[0].ndim - 1))
            stacked = np.stack([value.transpose(axes) for value in values], axis=1)
            rows = [_weighted_sum(stacked, subjects, w) for subjects, w in self._averages]  # each (M, ...)
            averages = [dict(zip(names, row)) for row in rows]
            spread = _spread(rows[1:])  # (M, ...) each
            gaps = {name: {kind: gap[m] for kind, gap in spread.items()} for m, name in enumerate(names)}
        return SocialMetrics(averages[0], dict(zip(self.order, averages[1:])), gaps)


def _weighted_sum(values: np.ndarray, subjects: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_j weights[j] values[subjects[j]]`` over the leading axis of ``values``, added in order of ``j``."""
    total = weights[0] * values[subjects[0]]
    for subject, weight in zip(subjects[1:].tolist(), weights[1:].tolist()):
        total += weight * values[subject]
    return total
