"""Named instances of the persuasion game (Kamenica and Gentzkow's prosecutor) and random games."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from stratgym.games.persuasion.model import PersuasionGame
from stratgym.games.persuasion.priors import FiniteSupportPrior, GaussianPrior, check_rng
from stratgym.games.validation import as_positive_int, as_real_array, check_range

# ---------------------------------------------------------------------------------------------
# Random instances
# ---------------------------------------------------------------------------------------------

def random_persuasion_game(rng: np.random.Generator, n_features: int = 3, n_actions: int = 3,
                           prior: str = "gaussian", n_atoms: int = 6, decision_dependent: bool = False) -> PersuasionGame:
    """A random instance drawn from ``rng`` (``n_actions`` counts the no-op).

    Feature 0 is the intercept (``x_0[0] = 1``, never changed by an action); the other features of
    ``x_0`` are uniform on ``[-1, 1]``. Each action changes each non-intercept feature by a uniform
    ``[-1, 1]`` amount with probability 2/3 (else 0) and costs uniform ``[0, 0.8]``. ``u_P`` is 1 on a
    random non-empty set of actions other than the no-op (``decision_dependent``: a uniform ``[0, 1]``
    table ``(A, 2)`` instead). ``prior``: ``"gaussian"`` (mean ``N(0, I)``, ``sigma^2`` uniform on
    ``[0.2, 1]``) or ``"finite"`` (``n_atoms`` standard normal atoms with Dirichlet(1) probabilities).
    """
    check_rng(rng)
    n_features = as_positive_int(n_features, "n_features")
    n_actions = as_positive_int(n_actions, "n_actions", minimum=2)
    n_atoms = as_positive_int(n_atoms, "n_atoms")
    if prior not in ("gaussian", "finite"):
        raise ValueError(f"prior must be 'gaussian' or 'finite', got {prior!r}")
    features = np.r_[1.0, rng.uniform(-1.0, 1.0, n_features - 1)]
    effects = rng.uniform(-1.0, 1.0, (n_actions, n_features)) * (rng.random((n_actions, n_features)) < 2 / 3)
    effects[0] = 0.0
    effects[:, 0] = 0.0
    costs = np.r_[0.0, rng.uniform(0.0, 0.8, n_actions - 1)]
    if decision_dependent:
        utility = rng.uniform(0.0, 1.0, (n_actions, 2))
    else:
        desirable = rng.random(n_actions - 1) < 0.5
        desirable[rng.integers(n_actions - 1)] = True
        utility = np.r_[0.0, desirable.astype(float)]
    if prior == "gaussian":
        law = GaussianPrior(rng.standard_normal(n_features), float(rng.uniform(0.2, 1.0)))
    else:
        law = FiniteSupportPrior(rng.standard_normal((n_atoms, n_features)), rng.dirichlet(np.ones(n_atoms)))
    return PersuasionGame(features, effects, costs, law, utility)


def prosecutor(approving: float = 0.3, gaussian: bool = False) -> PersuasionGame:
    """Kamenica and Gentzkow's prosecutor example ("Bayesian Persuasion", AER 2011) as a recourse game.

    ``x_0 = (1, 0)``; one action besides the no-op, ``Delta = (0, 1)`` at cost 0.5, valued 1 by the principal.
    The rule is ``theta = (-1, eta)``: it always rejects the no-op and approves acting iff ``eta >= 1``, which
    has probability ``approving`` in ``[0, 1]`` (the prior share of "guilty"). ``gaussian=False``: two atoms,
    ``(-1, 0.5)`` (rejects anyway) with probability ``1 - approving`` and ``(-1, 2)`` (approves iff the agent
    acts) with ``approving``, in the order of their regions ``[[False, False], [False, True]]``.
    ``gaussian=True``: ``eta ~ N(1 + Phi^{-1}(approving), 1)`` (a singular Gaussian prior; ``approving`` in
    ``(0, 1)``), the same regions and masses.

    Known answers: optimal signaling recommends acting wherever it is approved and in a share
    ``approving / (1 - approving)`` of the rest, which leaves the agent indifferent, and is worth
    ``min(1, 2 approving)`` to the principal (0.6 by default, the prosecutor's conviction probability); full
    revelation ``approving``; no information 0 below ``approving = 0.5`` (1 from there, ties to the principal).
    """
    approving = float(as_real_array(approving, "approving", shape=()))
    if not isinstance(gaussian, (bool, np.bool_)):
        raise ValueError(f"gaussian must be True or False, got {gaussian!r}")
    check_range(np.array(approving), "approving", low=0.0, high=1.0)
    if gaussian:
        if not 0.0 < approving < 1.0:
            raise ValueError(f"approving must lie in (0, 1) for gaussian=True, got {approving}")
        prior = GaussianPrior([-1.0, 1.0 + norm.ppf(approving)], [[0.0, 0.0], [0.0, 1.0]])
    else:
        prior = FiniteSupportPrior([[-1.0, 0.5], [-1.0, 2.0]], [1.0 - approving, approving])
    return PersuasionGame([1.0, 0.0], [[0.0, 0.0], [0.0, 1.0]], [0.0, 0.5], prior, action_names=("none", "act"))
