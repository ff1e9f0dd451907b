"""Populations of the stateful game: many agent types facing one published assessment policy.

A :class:`StatefulPopulation` is a list of agent types, each a :class:`~stratgym.games.stateful.StatefulGame`
(its own conversion matrix ``W``, budget ``B``, retention, persistence, initial state and principal values
``lambda``), with a weight (its share of the population) and a group label. The principal publishes one rule
sequence ``theta`` ``(T, n)`` that every type faces (or, with ``per_group``, one sequence per group); each type
best-responds exactly as the single-agent game's agent does (:func:`~stratgym.games.stateful.best_response`, ties
to the principal within ``TIE_TOL`` of the round's scale: :mod:`stratgym.games.ties`). The principal's utility is
the weighted sum ``sum_k w_k U_P^k``. All types share the horizon, the numbers of features and effort types, the
discount and the conversion shape ``g`` (a rule must mean the same to every type).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from stratgym.games.validation import as_real_array, check_instance, check_range
from stratgym.games.metrics import SocialMetrics, social_metrics
from stratgym.games.stateful import (StatefulGame, best_response, check_assessment_policy, classroom_project,
                                     random_game, rollout)

#: Weights must sum to 1 within this.
WEIGHT_SUM_TOL = 1e-9
#: Fields every type of a population must share (name -> what it is), checked at construction.
SHARED_FIELDS = {"horizon": "T", "n_features": "n", "n_efforts": "d", "discount": "gamma", "conversion": "g"}


def check_labels(groups, count: int, name: str = "groups") -> tuple[str, ...]:
    """``groups`` as ``count`` non-empty string labels; ``ValueError`` naming ``name`` (and the first bad entry)."""
    if groups is None:
        raise ValueError(f"{name} is required: one group label (a non-empty string) per member, {count} in all")
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__iter__"):
        raise ValueError(f"{name} must be a sequence of {count} labels, got {groups!r}")
    labels = [str(g) if isinstance(g, np.str_) else g for g in groups]
    if len(labels) != count:
        raise ValueError(f"{name} must have one label per member ({count}), got {len(labels)}")
    for index, label in enumerate(labels):
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{name}[{index}] is missing: every member needs a non-empty string label, got {label!r}")
    return tuple(labels)


def check_weights(weights, count: int, name: str = "weights") -> np.ndarray:
    """``weights`` ``(count,)`` ``>= 0`` summing to 1 (``None``: uniform); ``ValueError`` naming ``name``."""
    if weights is None:
        return np.full(count, 1.0 / count)
    weights = as_real_array(weights, name, shape=(count,))
    check_range(weights, name, low=0.0)
    if abs(weights.sum() - 1.0) > WEIGHT_SUM_TOL:
        raise ValueError(f"{name} must sum to 1 (within {WEIGHT_SUM_TOL:g}), got sum {weights.sum():.12g}")
    return weights


@dataclass(frozen=True, eq=False)
class StatefulPopulation:
    """Agent types of the stateful game facing one rule, validated at construction (``ValueError`` naming the field).

    Attributes:
        types: the agent types, each a ``StatefulGame`` (its own ``W``, ``B``, retention, persistence, ``s_1``,
            ``lambda``); they must share ``SHARED_FIELDS`` (horizon, features, effort types, discount, ``g``).
        weights: ``(K,)`` ``>= 0``, summing to 1: each type's share (``None``: uniform).
        groups: ``K`` non-empty labels (e.g. ``"advantaged"``); required.
        threshold: a type gets a positive decision in a round when its score ``y_t >= threshold`` (score units);
            the recourse metric is the weighted share of types accepted in the last round.
    """

    types: tuple[StatefulGame, ...]
    weights: np.ndarray | None = None
    groups: tuple[str, ...] | None = None
    threshold: float = 0.5

    def __post_init__(self):
        set_ = lambda field, value: object.__setattr__(self, field, value)  # noqa: E731 (frozen dataclass)
        if isinstance(self.types, StatefulGame) or not isinstance(self.types, Sequence):
            raise ValueError(f"types must be a sequence of StatefulGame, got {self.types!r}")
        types = tuple(self.types)
        if not types:
            raise ValueError("types is empty: a population needs at least one agent type")
        for index, game in enumerate(types):
            check_instance(game, StatefulGame, f"types[{index}]")
            for field, symbol in SHARED_FIELDS.items():
                if getattr(game, field) != getattr(types[0], field):
                    raise ValueError(f"types[{index}].{field} ({symbol}) is {getattr(game, field)!r} but types[0] has "
                                     f"{getattr(types[0], field)!r}: every type must share {', '.join(SHARED_FIELDS)}")
        set_("types", types)
        set_("weights", check_weights(self.weights, len(types)))
        set_("groups", check_labels(self.groups, len(types)))
        set_("threshold", float(as_real_array(self.threshold, "threshold", shape=())))

    @property
    def n_types(self) -> int:
        """``K``, the number of agent types."""
        return len(self.types)

    @property
    def horizon(self) -> int:
        """``T``, shared by every type."""
        return self.types[0].horizon

    @property
    def n_features(self) -> int:
        """``n``, shared by every type."""
        return self.types[0].n_features

    @property
    def group_names(self) -> tuple[str, ...]:
        """The distinct group labels, in order of first appearance."""
        return tuple(dict.fromkeys(self.groups))

    def group_index(self) -> np.ndarray:
        """``(K,)`` each type's index into :attr:`group_names`."""
        names = self.group_names
        return np.array([names.index(g) for g in self.groups])

    def subpopulation(self, group: str) -> "StatefulPopulation":
        """The types of ``group``, their weights renormalized to sum to 1."""
        members = [k for k, g in enumerate(self.groups) if g == group]
        if not members:
            raise ValueError(f"group must be one of {self.group_names}, got {group!r}")
        weights = self.weights[members]
        total = weights.sum()
        weights = weights / total if total > 0 else np.full(len(members), 1.0 / len(members))
        return StatefulPopulation(tuple(self.types[k] for k in members), weights,
                                  tuple(self.groups[k] for k in members), self.threshold)


def population_rules(population: StatefulPopulation, theta, per_group: bool = False) -> np.ndarray:
    """Each type's assessment policy ``(K, T, n)`` from one policy ``theta`` ``(T, n)``, or with ``per_group`` one per
    group ``(G, T, n)`` (groups in the order of :attr:`StatefulPopulation.group_names`); checked."""
    game = population.types[0]
    if per_group:
        theta = np.asarray(theta, dtype=np.float64)
        expected = (len(population.group_names), game.horizon, game.n_features)
        if theta.shape != expected:
            raise ValueError(f"theta must have shape (G, T, n) = {expected} with per_group=True, got {theta.shape}")
        return check_assessment_policy(game, theta)[population.group_index()]
    theta = check_assessment_policy(game, theta, batch=False)
    return np.broadcast_to(theta, (population.n_types,) + theta.shape)


@dataclass(frozen=True)
class PopulationOutcome:
    """Every type's response to a published policy, and what it does to the population.

    Attributes:
        theta: ``(K, T, n)`` the policy each type faced.
        effort: ``(K, T, d)`` each type's response.
        principal_utilities, agent_utilities: ``(K,)`` per type.
        principal_utility: ``sum_k w_k U_P^k``.
        metrics: :class:`~stratgym.games.metrics.SocialMetrics` per group and overall.
    """

    theta: np.ndarray
    effort: np.ndarray
    principal_utilities: np.ndarray
    agent_utilities: np.ndarray
    principal_utility: float
    metrics: SocialMetrics


#: The metrics of a type that add up over rounds a term linear in that round's effort, in the order of the columns of
#: :func:`effort_term_weights`.
EFFORT_TERMS = ("principal", "improvement", "gaming")


def effort_term_weights(game: StatefulGame) -> np.ndarray:
    """``(d, 3)``: a round's effort ``e_t`` ``(d,)`` times this is its terms of :data:`EFFORT_TERMS`: ``lambda . e_t``
    (the principal's utility), and the shares of the whole budget ``T B`` spent on desirable effort types
    (``lambda_j > 0``) and on the others (gaming). Summed over the rounds they are the type's metrics."""
    desirable = game.effort_value > 0
    share = 1.0 / (game.horizon * game.budget)
    return np.stack([game.effort_value, desirable * share, ~desirable * share], axis=1)


def subject_metrics(effort_terms: np.ndarray, last_score, agent_utility, state_gain, threshold: float) -> dict:
    """One type's metrics (:mod:`stratgym.games.metrics`, plus ``state_gain``) from what its episode added up:
    ``effort_terms`` ``(..., 3)`` (its efforts times :func:`effort_term_weights`, summed over rounds), the last
    round's score ``y_T``, ``U_A`` and the state gained ``sum_j (s_{T+1} - s_1)_j``, each ``(...)``. The one place
    the metrics are defined: the solvers' :func:`stateful_subject_metrics` and ``StatefulPopulation-v0``'s running
    sums both end here. Floats for one type; arrays ``(...)`` for a batch."""
    metrics = {"improvement": effort_terms[..., 1], "gaming": effort_terms[..., 2],
               "recourse": (np.asarray(last_score) >= threshold).astype(np.float64), "welfare": agent_utility,
               "principal": effort_terms[..., 0], "state_gain": state_gain}
    return {name: float(value) if np.ndim(value) == 0 else value for name, value in metrics.items()}


def stateful_subject_metrics(game: StatefulGame, effort: np.ndarray, theta: np.ndarray, threshold: float) -> dict:
    """One type's metrics (:func:`subject_metrics`) under ``theta`` ``(T, n)`` and its effort ``(T, d)``, from their
    rollout. Floats; for a batch (``(..., T, n)`` and ``(..., T, d)``), arrays ``(...)``."""
    played = rollout(game, theta, effort)
    terms = np.asarray(effort).sum(axis=-2) @ effort_term_weights(game)
    return subject_metrics(terms, played.scores[..., -1], played.agent_utility,
                           played.states[..., -1, :].sum(axis=-1) - played.states[..., 0, :].sum(axis=-1), threshold)


def population_outcome(population: StatefulPopulation, theta, model: str = "rational", per_group: bool = False,
                       effort=None) -> PopulationOutcome:
    """Play ``theta`` (``(T, n)``, or ``(G, T, n)`` with ``per_group``) against every type: each best-responds under
    ``model`` (single-agent tie rule) unless its efforts ``(K, T, d)`` are given (e.g. what an env observed)."""
    check_instance(population, StatefulPopulation, "population")
    rules = population_rules(population, theta, per_group)
    efforts = (np.array([best_response(game, rule, model).effort for game, rule in zip(population.types, rules)])
               if effort is None else np.asarray(effort, dtype=np.float64))
    per_subject = [stateful_subject_metrics(game, e, rule, population.threshold)
                   for game, e, rule in zip(population.types, efforts, rules)]
    columns = {name: np.array([values[name] for values in per_subject]) for name in per_subject[0]}
    principal = columns["principal"]
    return PopulationOutcome(np.array(rules), efforts, principal, columns["welfare"],
                             float(population.weights @ principal),
                             social_metrics(columns, population.weights, population.groups))


# ---------------------------------------------------------------------------------------------
# Named populations
# ---------------------------------------------------------------------------------------------

def classroom_groups(horizon: int = 5) -> StatefulPopulation:
    """The graded-project classroom (:func:`~stratgym.games.stateful.classroom_project`) with two groups of two types.

    ``advantaged``: studying raises the project score by 0.25 (the single-agent game), from no prior knowledge or
    with a head start ``s_1 = (0, 1, 0)``. ``disadvantaged``: studying raises the project score by only 0.1 and each
    form of cheating raises its score by 1, so studying is harder to reward; one type has half the budget (less
    time), the other retains only half of its study (``omega = (0, 0.5, 0)``). Weights 0.3, 0.2, 0.3, 0.2.
    A common rule that makes the disadvantaged study must lean on the project harder than the advantaged need, and
    the two groups' best rules differ: the ``per_group`` comparison has something to show.
    """
    hard = [[1.0, 0.1, 0.0], [0.0, 0.1, 1.0], [0.3, 0.1, 0.0]]
    types = (classroom_project(horizon),
             classroom_project(horizon, initial_state=[0.0, 1.0, 0.0]),
             classroom_project(horizon, conversion_matrix=hard, budget=0.5),
             classroom_project(horizon, conversion_matrix=hard, retention=[0.0, 0.5, 0.0]))
    groups = ("advantaged", "advantaged", "disadvantaged", "disadvantaged")
    return StatefulPopulation(types, [0.3, 0.2, 0.3, 0.2], groups)


def random_population(rng: np.random.Generator, n_types: int = 4, n_groups: int = 2, horizon: int = 3,
                      n_features: int = 2, n_efforts: int = 3) -> StatefulPopulation:
    """``n_types`` types from :func:`~stratgym.games.stateful.random_game`, each with a budget uniform on ``[0.5, 2]``
    and an initial state uniform on ``[0, 1]^d``, sharing the first type's ``lambda`` and discount (one principal);
    Dirichlet(1) weights; groups ``g0..`` assigned round-robin."""
    first = random_game(rng, horizon, n_features, n_efforts)
    types = tuple(random_game(rng, horizon, n_features, n_efforts, discount=first.discount).replace(
        effort_value=first.effort_value, budget=float(rng.uniform(0.5, 2.0)),
        initial_state=rng.uniform(0.0, 1.0, n_efforts)) for _ in range(n_types))
    return StatefulPopulation(types, rng.dirichlet(np.ones(n_types)), tuple(f"g{k % n_groups}" for k in range(n_types)))


#: Named populations (``gym.make("stratgym/StatefulPopulation-v0", population="classroom_groups")``).
NAMED_POPULATIONS = {"classroom_groups": classroom_groups}
