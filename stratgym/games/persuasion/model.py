"""The game: :class:`PersuasionGame` (validated at construction), decision patterns and the payoffs of regions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

from stratgym.games.fields import FieldwiseEqual, axis_length
from stratgym.games.persuasion.priors import FiniteSupportPrior, GaussianPrior, Prior, SamplerPrior, as_vector
from stratgym.games.validation import as_real_array, check_instance, check_range


# ---------------------------------------------------------------------------------------------
# The game
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class PersuasionGame(FieldwiseEqual):
    """Parameters of the recourse persuasion game, validated at construction (``ValueError`` naming the field).

    Attributes:
        features: ``x_0``, shape ``(m,)``: the decision subject's features (include a constant 1 for the intercept).
        effects: ``Delta``, shape ``(A, m)`` with ``A = K + 1 >= 2``: feature change of each action;
            row 0 (the no-op) must be 0.
        costs: ``c``, shape ``(A,)``, ``>= 0``, in utility units (a positive decision is worth 1); ``c[0]`` must be 0.
        prior: a :class:`GaussianPrior`, :class:`FiniteSupportPrior` or :class:`SamplerPrior` over ``theta`` in ``R^m``.
        principal_utility: ``u_P``: a weight (or boolean "desirable") vector of shape ``(A,)``, or a table
            of shape ``(A, 2)`` with ``u_P[a, s_a]`` depending on whether ``a`` leads to a positive
            decision, stored as ``(A, 2)``; or a callable ``u_P(patterns)`` mapping boolean decision patterns
            ``(N, A)`` to ``(N, A)`` values, ``[n, a]`` = the utility of action ``a`` when the rule's whole
            pattern is ``patterns[n]`` (stored as given; checked at construction on the all-negative,
            all-positive and one-positive patterns, and on every use; picklable for envs, as for
            :class:`SamplerPrior`). ``None`` (default): 1 for every action but the no-op.
        action_names, feature_names: labels, sequences (not a single string) of lengths ``A`` and ``m``
            (defaults ``none, action1..`` and ``feature0..``).
    """

    features: np.ndarray
    effects: np.ndarray
    costs: np.ndarray
    prior: Prior
    principal_utility: np.ndarray | Callable[[np.ndarray], np.ndarray] | None = None
    action_names: tuple[str, ...] | None = None
    feature_names: tuple[str, ...] | None = None

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        features = as_vector(self.features, "features (x_0)")
        m = features.shape[0]
        effects = as_real_array(self.effects, "effects (Delta)", shape=(None, m))
        n_actions = effects.shape[0]
        if n_actions < 2:
            raise ValueError(f"effects (Delta) must have A >= 2 rows (the no-op and at least one action), "
                             f"got {n_actions}")
        if np.any(effects[0] != 0.0):
            raise ValueError(f"effects (Delta) row 0 is the no-op and must be 0, got {effects[0]}")
        costs = as_real_array(self.costs, "costs (c)", shape=(n_actions,))
        check_range(costs, "costs (c)", low=0.0)
        if costs[0] != 0.0:
            raise ValueError(f"costs (c)[0] is the no-op's cost and must be 0, got {costs[0]}")
        if not isinstance(self.prior, (GaussianPrior, FiniteSupportPrior, SamplerPrior)):
            raise ValueError(f"prior must be a GaussianPrior, FiniteSupportPrior or SamplerPrior, "
                             f"got {type(self.prior).__name__}")
        if self.prior.dimension != m:
            raise ValueError(f"prior must be over R^{m} (the length of features), got dimension {self.prior.dimension}")
        utility = self.principal_utility
        if utility is None:
            utility = np.r_[0.0, np.ones(n_actions - 1)]
        if not callable(utility):
            utility = np.array(as_real_array(utility, "principal_utility (u_P)"))
            if utility.shape == (n_actions,):
                utility = np.repeat(utility[:, None], 2, axis=1)
            elif utility.shape != (n_actions, 2):
                raise ValueError(f"principal_utility (u_P) must have shape ({n_actions},) or ({n_actions}, 2), or be "
                                 f"a callable of the patterns, got shape {utility.shape}")
            utility.setflags(write=False)
        for name, value in (("features", features), ("effects", effects), ("costs", costs),
                            ("principal_utility", utility)):
            set_(name, value)
        if callable(utility):  # probes: every action negative, every action positive, one action positive
            self.principal_payoffs(np.vstack([np.zeros(n_actions, dtype=bool), np.ones(n_actions, dtype=bool),
                                              np.eye(n_actions, dtype=bool)]))
        for name, length, default in (("action_names", n_actions, ["none", *(f"action{a}" for a in range(1, n_actions))]),
                                      ("feature_names", m, [f"feature{i}" for i in range(m)])):
            names = getattr(self, name)
            if isinstance(names, str):
                raise ValueError(f"{name} must be a sequence of {length} strings, not the single string {names!r}")
            names = tuple(default) if names is None else tuple(map(str, names))
            if len(names) != length:
                raise ValueError(f"{name} must have {length} entries, got {len(names)}")
            set_(name, names)
        action_features = features + effects
        action_features.setflags(write=False)
        set_("_action_features", action_features)

    n_features = axis_length("features", 0, "``m``, the number of features.")
    n_actions = axis_length("effects", 0, "``A = K + 1``, the number of actions including the no-op.")

    @property
    def action_features(self) -> np.ndarray:
        """``X = x_0 + Delta``, shape ``(A, m)``: the features after each action."""
        return self._action_features

    def principal_payoffs(self, patterns) -> np.ndarray:
        """``u_P`` of every action under decision patterns ``(N, A)`` (boolean): shape ``(N, A)``."""
        patterns = np.asarray(patterns, dtype=bool)
        if patterns.ndim != 2 or patterns.shape[1] != self.n_actions:
            raise ValueError(f"patterns must have shape (R, {self.n_actions}), got {patterns.shape}")
        if callable(self.principal_utility):
            return as_real_array(self.principal_utility(patterns), "principal_utility(patterns) (u_P)",
                                 shape=patterns.shape)
        return np.where(patterns, self.principal_utility[:, 1], self.principal_utility[:, 0])

    def replace(self, **changes) -> "PersuasionGame":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def decision_patterns(game: PersuasionGame, theta) -> np.ndarray:
    """Patterns ``s(theta)``, boolean ``(..., A)``: ``s_a = theta . (x_0 + Delta(a)) >= 0``, for finite ``theta`` ``(..., m)``."""
    check_instance(game, PersuasionGame, "game")
    # A NaN rule would compare False everywhere: an all-negative pattern that no rule has.
    theta = as_real_array(theta, "theta")
    if theta.shape[-1:] != (game.n_features,):
        raise ValueError(f"theta must have shape (..., {game.n_features}), got {theta.shape}")
    return theta @ game.action_features.T >= 0.0


def region_payoffs(game: PersuasionGame, patterns) -> tuple[np.ndarray, np.ndarray]:
    """Payoff tables of regions ``patterns`` ``(R, A)``: ``(u_P, u_A)``, each ``(R, A)``.

    ``u_A[s, a] = s_a - c(a)`` and ``u_P[s, a] = u_P(a, s)`` (:meth:`PersuasionGame.principal_payoffs`).
    """
    principal = game.principal_payoffs(patterns)
    return principal, np.asarray(patterns, dtype=bool) - game.costs
