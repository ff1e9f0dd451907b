"""Equivalence regions: their enumeration and :class:`Regions`, the regions of a game with masses and payoffs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratgym.games.persuasion.cells import REGION_TOL, check_region_tol, enumerate_cells
from stratgym.games.persuasion.masses import MASS_METHODS, locate_patterns, mass_arguments, region_masses
from stratgym.games.persuasion.model import PersuasionGame, decision_patterns, region_payoffs
from stratgym.games.fields import axis_length, values_equal
from stratgym.games.persuasion.priors import FiniteSupportPrior, SamplerPrior
from stratgym.games.validation import as_real_array, check_instance, check_range

#: The masses of :class:`Regions` must sum to 1 within this (every mass method renormalizes or counts exactly).
MASS_SUM_TOL = 1e-9
#: The fields of a game that its regions depend on (labels do not).
_MODEL_FIELDS = ("features", "effects", "costs", "prior", "principal_utility")


def enumerate_regions(game: PersuasionGame, tol: float = REGION_TOL) -> tuple[np.ndarray, np.ndarray]:
    """The equivalence regions with positive prior probability: patterns ``(R, A)`` and a rule in each ``(R, m)``.

    Gaussian prior: the full-dimensional cells of the arrangement on the prior's support
    ``theta = mu + L z`` (:func:`enumerate_cells` with normals ``X L`` and offsets ``X mu``; for a
    non-singular covariance this is the central arrangement ``{theta . X_a = 0}`` itself). Finite
    support: the distinct patterns of the atoms with positive probability, witnessed by the first
    such atom. Sampler (support unknown): every full-dimensional cell of the central arrangement in
    ``R^m`` (cells the sampler never reaches get mass 0). Patterns are sorted lexicographically (action 0
    most significant). ``tol``: as in :func:`enumerate_cells` (in ``[0, MAX_REGION_TOL]``).
    """
    check_instance(game, PersuasionGame, "game")
    prior = game.prior
    tol = check_region_tol(tol)
    X = game.action_features
    if isinstance(prior, FiniteSupportPrior):
        atoms = prior.atoms[prior.probabilities > 0]
        patterns, first = np.unique(decision_patterns(game, atoms), axis=0, return_index=True)
        return patterns, atoms[first]
    if isinstance(prior, SamplerPrior):
        return enumerate_cells(X, tol=tol)
    patterns, points = enumerate_cells(X @ prior.factor, X @ prior.mean, tol=tol)
    return patterns, prior.mean + points @ prior.factor.T


@dataclass(frozen=True, eq=False)
class Regions:
    """The equivalence regions of a game with their prior masses and payoff tables.

    Attributes:
        patterns: ``(R, A)`` boolean decision patterns, sorted lexicographically.
        witnesses: ``(R, m)`` a rule in each region.
        masses, mass_errors: ``(R,)`` prior probabilities and their error estimates (see :class:`RegionMasses`).
        mass_method: how the masses were obtained (one of ``MASS_METHODS``).
        principal_payoffs, agent_payoffs: ``(R, A)`` ``u_P`` and ``u_A`` of each action in each region.
        game: the game they were computed for (:meth:`check_game` compares it); ``None`` for regions built by
            hand, which consumers that need the game (the envs, :func:`~stratgym.baselines.signaling.simulate`) refuse.

    Validated at construction (``ValueError`` naming the field), as hand-built regions feed the solvers directly:
    shapes agree, masses are probabilities summing to 1 (within ``MASS_SUM_TOL``), errors are ``>= 0``, payoffs are
    finite, ``mass_method`` is one of ``MASS_METHODS``. Arrays are stored as read-only copies.
    """

    patterns: np.ndarray
    witnesses: np.ndarray
    masses: np.ndarray
    mass_errors: np.ndarray
    mass_method: str
    principal_payoffs: np.ndarray
    agent_payoffs: np.ndarray
    game: PersuasionGame | None = None

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        patterns = np.array(self.patterns)
        if patterns.ndim != 2 or patterns.shape[0] < 1 or patterns.shape[1] < 2 or not (
                patterns.dtype == bool or np.all((patterns == 0) | (patterns == 1))):
            raise ValueError(f"patterns must be a boolean (R, A) array with R >= 1 and A >= 2, got {self.patterns!r}")
        patterns = patterns.astype(bool)
        n_regions, n_actions = patterns.shape
        if self.game is not None:
            check_instance(self.game, PersuasionGame, "game")
            if n_actions != self.game.n_actions:
                raise ValueError(f"patterns must have the game's {self.game.n_actions} actions as columns, got {n_actions}")
        witnesses = as_real_array(self.witnesses, "witnesses", shape=(n_regions, None if self.game is None
                                                                      else self.game.n_features))
        masses = as_real_array(self.masses, "masses", shape=(n_regions,))
        check_range(masses, "masses", low=0.0, high=1.0)
        if abs(masses.sum() - 1.0) > MASS_SUM_TOL:
            raise ValueError(f"masses must sum to 1 (within {MASS_SUM_TOL:g}), got sum {masses.sum():.12g}")
        errors = as_real_array(self.mass_errors, "mass_errors", shape=(n_regions,))
        check_range(errors, "mass_errors", low=0.0)
        if self.mass_method not in MASS_METHODS:
            raise ValueError(f"mass_method must be one of {MASS_METHODS}, got {self.mass_method!r}")
        principal = as_real_array(self.principal_payoffs, "principal_payoffs", shape=(n_regions, n_actions))
        agent = as_real_array(self.agent_payoffs, "agent_payoffs", shape=(n_regions, n_actions))
        patterns.setflags(write=False)
        for name, value in (("patterns", patterns), ("witnesses", witnesses), ("masses", masses),
                            ("mass_errors", errors), ("principal_payoffs", principal), ("agent_payoffs", agent)):
            set_(name, value)

    n_regions = axis_length("patterns", 0, "``R``, the number of regions.")
    n_actions = axis_length("patterns", 1, "``A``, the number of actions.")

    def locate(self, patterns) -> np.ndarray:
        """Region indices of ``patterns`` ``(N, A)``; ``-1`` for a pattern that is not a region."""
        return locate_patterns(self.patterns, patterns)

    def check_game(self, game: PersuasionGame, name: str = "regions") -> None:
        """Raise ``ValueError`` naming ``name`` unless these regions were computed for ``game``: the recorded game
        has the same features, effects, costs, prior and ``u_P`` (labels may differ). A few array comparisons."""
        if self.game is None:
            raise ValueError(f"{name} must record the game they were computed for: build them with "
                             f"equivalence_regions(game) (or pass game= to Regions)")
        differing = [item for item in _MODEL_FIELDS if not values_equal(getattr(self.game, item), getattr(game, item))]
        if differing:
            raise ValueError(f"{name} must be computed for this game (equivalence_regions(game)): they were computed "
                             f"for a game with a different {', '.join(differing)}")


def equivalence_regions(game: PersuasionGame, method: str = "auto", rng: np.random.Generator | None = None,
                        n_samples: int = 100_000, abseps: float = 1e-6, tol: float = REGION_TOL) -> Regions:
    """Enumerate the regions of ``game`` (:func:`enumerate_regions`) and their masses (:func:`region_masses`).

    Every argument is checked before the enumeration, which is the slow part."""
    mass_arguments(game, method, rng, n_samples, abseps)
    patterns, witnesses = enumerate_regions(game, tol)
    masses = region_masses(game, patterns, method, rng, n_samples, abseps)
    principal, agent = region_payoffs(game, patterns)
    return Regions(patterns, witnesses, masses.masses, masses.errors, masses.method, principal, agent, game)
