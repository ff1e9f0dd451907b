"""The recourse persuasion game (Bayesian persuasion for algorithmic recourse), as plain numpy.

Model (see ``shared/docs/model-persuasion.md``; Harris et al., "Bayesian Persuasion for Algorithmic
Recourse", NeurIPS 2022). A decision subject with features ``x_0`` (shape ``(m,)``, a constant-1
feature carries the intercept) can take an action ``a = 0..K`` (``A = K + 1`` actions; action 0 is
the no-op) that moves its features to ``x_0 + Delta(a)`` at cost ``c(a) >= 0``. The assessment rule
``theta`` (shape ``(m,)``) is drawn from a prior both players know; the principal sees it, the agent
does not. The decision is positive iff ``theta . (x_0 + Delta(a)) >= 0``, so

* the decision pattern of ``theta`` is ``s(theta)`` in ``{0,1}^A``, ``s_a = 1{theta . (x_0 + Delta(a)) >= 0}``
  (the boundary ``= 0`` counts as positive);
* the agent's utility is ``u_A(a, theta) = s_a(theta) - c(a)``;
* the principal's utility is ``u_P(a, theta) = U[a, s_a(theta)]`` for a table ``U`` of shape ``(A, 2)``
  (by default 1 for every action but the no-op, whatever the decision), or any function ``u_P(a, s(theta))``
  of the whole pattern.

Both utilities depend on ``theta`` only through its pattern, so rules with the same pattern form an
*equivalence region* and a signaling scheme can recommend by region without loss: a scheme is a
``(R, A)`` array whose row ``s`` is the distribution of the recommendation in region ``s``.

Tie-breaking: the agent follows a recommendation when following is among its best actions (posterior
expected utilities within ``tie_tol`` (default ``TIE_TOL``) of the maximum count as ties: "ties go to obedience";
the one meaning of a tie in :mod:`stratgym.games.ties`); otherwise,
and whenever it best-responds without a recommendation, it takes the best action the principal values
most (ties again within ``tie_tol``), then the lowest action index.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.optimize import linprog
from scipy.stats import multivariate_normal, norm

try:  # scipy's private integrator behind multivariate_normal.cdf; unlike the cdf it returns its error estimate
    from scipy.stats._qmvnt import _qauto, _qmvn
except ImportError:  # a scipy that moved it: the public cdf, with its requested tolerance as the error bound
    _qauto = _qmvn = None

from stratgym.games.validation import (as_nonnegative_float, as_positive_int, as_real_array, check_instance,
                                        check_range)
from stratgym.games.ties import TIE_TOL

#: A region counts as non-empty when the enumeration LP certifies a ball of at least this radius
#: inside it (rows normalized, variables in the unit box); thinner cells have prior mass O(REGION_TOL).
REGION_TOL = 1e-7
#: The largest ``tol`` the enumeration accepts. Its LP's slack is at most 1 (``w <= 1``), so ``tol >= 1`` would drop
#: every cell; already beyond 1e-2 it drops cells of visible prior mass (thin cells have mass ``O(tol)``).
MAX_REGION_TOL = 1e-2
#: Rows of the arrangement with norm below this fraction of the largest are treated as exactly zero.
ZERO_ROW_TOL = 1e-12
#: Points searched for a cell's witness before its LP in :func:`enumerate_cells` (a fixed seeded pool).
CELL_POOL_SIZE = 16384
#: The masses of :class:`Regions` must sum to 1 within this (every mass method renormalizes or counts exactly).
MASS_SUM_TOL = 1e-9
#: Names of the region-mass methods: exact sum over atoms, Gaussian orthant integration, Monte Carlo.
MASS_METHODS = ("finite-sum", "orthant", "monte-carlo")
#: The fields of a game that its regions depend on (labels do not).
_MODEL_FIELDS = ("features", "effects", "costs", "prior", "principal_utility")


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``; raise ``ValueError`` naming ``name`` otherwise."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
                         f"got {type(rng).__name__}")
    return rng


def _values_equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return not a != b


def _fields_equal(first, second) -> bool:
    return type(first) is type(second) and all(_values_equal(getattr(first, item.name), getattr(second, item.name))
                                               for item in dataclasses.fields(first))


# ---------------------------------------------------------------------------------------------
# Priors
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class GaussianPrior:
    """Gaussian prior ``N(mean, covariance)`` over rules ``theta`` in ``R^m``, validated at construction.

    Attributes:
        mean: ``mu``, shape ``(m,)``.
        covariance: ``sigma^2 > 0`` (isotropic ``sigma^2 I``) or a symmetric positive semi-definite
            ``(m, m)`` matrix; a singular one puts the prior on ``mu + range(covariance)``. Stored as
            the full ``(m, m)`` matrix.
        factor: ``L``, shape ``(m, r)`` with ``L L^T = covariance`` and ``r`` its rank (eigenvalues below
            ``1e-12`` times the largest count as zero); ``theta = mu + L z`` with ``z ~ N(0, I_r)``.
    """

    mean: np.ndarray
    covariance: float | np.ndarray = 1.0
    factor: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        mean = as_real_array(self.mean, "mean (mu)", ndim=1)
        m = mean.shape[0]
        if m < 1:
            raise ValueError("mean (mu) must have at least one entry")
        if np.ndim(self.covariance) == 0:
            variance = as_real_array(self.covariance, "covariance (sigma^2)", shape=())
            check_range(variance, "covariance (sigma^2)", low=0.0, low_open=True)
            covariance = float(variance) * np.eye(m)
        else:
            covariance = as_real_array(self.covariance, "covariance", shape=(m, m))
            scale = max(1.0, float(np.abs(covariance).max()))
            if not np.allclose(covariance, covariance.T, rtol=0.0, atol=1e-12 * scale):
                raise ValueError("covariance must be a symmetric (m, m) matrix")
        eigenvalues, vectors = np.linalg.eigh((covariance + covariance.T) / 2.0)
        if eigenvalues.max() <= 0.0:
            raise ValueError("covariance must be non-zero (a point mass is a FiniteSupportPrior with one atom)")
        if eigenvalues.min() < -1e-10 * eigenvalues.max():
            raise ValueError(f"covariance must be positive semi-definite, got eigenvalue {eigenvalues.min():.3g}")
        keep = eigenvalues > 1e-12 * eigenvalues.max()
        factor = vectors[:, keep] * np.sqrt(eigenvalues[keep])
        covariance = np.array(covariance)
        for array in (covariance, factor):
            array.setflags(write=False)
        set_("mean", mean)
        set_("covariance", covariance)
        set_("factor", factor)

    @property
    def dimension(self) -> int:
        """``m``, the dimension of ``theta``."""
        return self.mean.shape[0]

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray:
        """Draw rules from ``rng``: shape ``(size, m)``, or ``(m,)`` when ``size`` is ``None``."""
        check_rng(rng)
        count = 1 if size is None else as_positive_int(size, "size")
        theta = self.mean + rng.standard_normal((count, self.factor.shape[1])) @ self.factor.T
        return theta[0] if size is None else theta

    def __eq__(self, other) -> bool:
        return _fields_equal(self, other) if isinstance(other, GaussianPrior) else NotImplemented

    __hash__ = None


@dataclass(frozen=True, eq=False)
class FiniteSupportPrior:
    """A prior on finitely many rules, validated at construction.

    Attributes:
        atoms: the rules, shape ``(n, m)``.
        probabilities: shape ``(n,)``, ``>= 0``, summing to 1 within ``1e-9`` (then renormalized);
            ``None`` means uniform.
    """

    atoms: np.ndarray
    probabilities: np.ndarray | None = None

    def __post_init__(self):
        atoms = as_real_array(self.atoms, "atoms", ndim=2)
        if atoms.shape[0] < 1 or atoms.shape[1] < 1:
            raise ValueError(f"atoms must have shape (n, m) with n, m >= 1, got {atoms.shape}")
        n = atoms.shape[0]
        raw = np.full(n, 1.0 / n) if self.probabilities is None else self.probabilities
        probabilities = np.array(as_real_array(raw, "probabilities", shape=(n,)))
        check_range(probabilities, "probabilities", low=0.0)
        if abs(probabilities.sum() - 1.0) > 1e-9:
            raise ValueError(f"probabilities must sum to 1, got sum {probabilities.sum():.12g}")
        probabilities /= probabilities.sum()
        probabilities.setflags(write=False)
        object.__setattr__(self, "atoms", atoms)
        object.__setattr__(self, "probabilities", probabilities)

    @property
    def dimension(self) -> int:
        """``m``, the dimension of ``theta``."""
        return self.atoms.shape[1]

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray:
        """Draw rules from ``rng``: shape ``(size, m)``, or ``(m,)`` when ``size`` is ``None``."""
        check_rng(rng)
        count = 1 if size is None else as_positive_int(size, "size")
        theta = self.atoms[rng.choice(self.atoms.shape[0], size=count, p=self.probabilities)]
        return theta[0] if size is None else theta

    def __eq__(self, other) -> bool:
        return _fields_equal(self, other) if isinstance(other, FiniteSupportPrior) else NotImplemented

    __hash__ = None


@dataclass(frozen=True, eq=False)
class SamplerPrior:
    """Any prior, given by a sampler; validated at construction with one probe draw from ``default_rng(0)``.

    Attributes:
        sampler: a callable ``sampler(rng, n)`` returning ``n`` rules as an ``(n, m)`` array, drawn with the
            ``numpy.random.Generator`` ``rng`` only (so draws are seeded). Envs are pickled with their game, so
            for them it must be picklable: a module-level function or class instance, not a lambda or closure.
        dimension: ``m``, the dimension of ``theta``.

    Region masses under a sampler are Monte Carlo estimates only (``mass_method == "monte-carlo"``); its regions
    are the full-dimensional cells of the arrangement ``theta . (x_0 + Delta(a)) = 0`` in ``R^m`` (see
    :func:`enumerate_regions`), so a sampler that puts positive probability on a decision boundary is not
    supported (:func:`region_masses` raises ``RuntimeError`` on such a draw).
    """

    sampler: Callable[[np.random.Generator, int], np.ndarray]
    dimension: int

    def __post_init__(self):
        if not callable(self.sampler):
            raise ValueError(f"sampler must be a callable sampler(rng, n) -> (n, m) array, got {self.sampler!r}")
        object.__setattr__(self, "dimension", as_positive_int(self.dimension, "dimension"))
        self.sample(np.random.default_rng(0), 2)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray:
        """Draw rules with the sampler: shape ``(size, m)``, or ``(m,)`` when ``size`` is ``None``."""
        check_rng(rng)
        count = 1 if size is None else as_positive_int(size, "size")
        theta = as_real_array(self.sampler(rng, count), "sampler(rng, n)", shape=(count, self.dimension))
        return theta[0] if size is None else theta

    def __eq__(self, other) -> bool:
        return _fields_equal(self, other) if isinstance(other, SamplerPrior) else NotImplemented

    __hash__ = None


Prior = GaussianPrior | FiniteSupportPrior | SamplerPrior


# ---------------------------------------------------------------------------------------------
# The game
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class PersuasionGame:
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
        features = as_real_array(self.features, "features (x_0)", ndim=1)
        m = features.shape[0]
        if m < 1:
            raise ValueError("features (x_0) must have at least one entry")
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

    @property
    def n_features(self) -> int:
        """``m``, the number of features."""
        return self.features.shape[0]

    @property
    def n_actions(self) -> int:
        """``A = K + 1``, the number of actions including the no-op."""
        return self.effects.shape[0]

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

    def __eq__(self, other) -> bool:
        return _fields_equal(self, other) if isinstance(other, PersuasionGame) else NotImplemented

    __hash__ = None


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


# ---------------------------------------------------------------------------------------------
# Equivalence regions
# ---------------------------------------------------------------------------------------------

def enumerate_cells(normals, offsets=None, tol: float = REGION_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Full-dimensional cells of the arrangement ``{z in R^d : s_a = 1{normals_a . z + offsets_a >= 0}}``.

    ``normals`` ``(A, d)``, ``offsets`` ``(A,)`` (``None``: all 0, a central arrangement of hyperplanes
    through the origin). Returns the cells' patterns ``(R, A)`` (boolean, sorted lexicographically)
    and one interior point of each, ``(R, d)``.

    Method: patterns are grown action by action and empty prefixes pruned. The affine arrangement is
    homogenized, ``y = (z, w)`` with ``w > 0``, so every row ``g_a = (normals_a, offsets_a)`` (scaled to
    unit norm) is a hyperplane through the origin; a prefix pattern is non-empty iff the LP
    ``max t  s.t.  (2 s_a - 1) g_a . y >= t,  w >= t,  y in [-1, 1]^(d+1)`` has ``t > tol``. Both
    the weak side ``>= 0`` and the strict side ``< 0`` get the same slack ``t``, so only
    full-dimensional cells are found: lower-dimensional pieces (on a hyperplane) carry no mass under
    a density, and cells thinner than ``tol`` (in ``[0, MAX_REGION_TOL]``) are dropped. The parent's LP solution is reused as the
    witness of whichever child it already satisfies with slack ``> tol``, so each surviving prefix
    costs about one LP. Rows with norm below ``ZERO_ROW_TOL`` times the largest are ``0 >= 0``: always
    positive. Before an LP, a fixed pool of ``CELL_POOL_SIZE`` points (``z ~ N(0, I)``, seeded) is searched for
    one inside the child with slack ``> tol``: the cells a Gaussian prior gives visible mass are found without an
    LP, so the LPs left are mostly those that prove a child empty (10 actions: 510 cells, 560 LPs instead of 760).
    """
    normals = as_real_array(normals, "normals", ndim=2)
    tol = _check_region_tol(tol)
    n_rows, dim = normals.shape
    offsets = np.zeros(n_rows) if offsets is None else as_real_array(offsets, "offsets", shape=(n_rows,))
    rows = np.hstack([normals, offsets[:, None]])
    norms = np.linalg.norm(rows, axis=1)
    zero = norms <= ZERO_ROW_TOL * max(norms.max(initial=0.0), 1.0)
    rows = np.where(zero[:, None], 0.0, rows / np.where(zero, 1.0, norms)[:, None])
    pool = np.hstack([np.random.default_rng(0).standard_normal((CELL_POOL_SIZE, dim)), np.ones((CELL_POOL_SIZE, 1))])
    pool /= np.abs(pool).max(axis=1, keepdims=True)  # into the LP's box [-1, 1]^(d+1), w > 0
    pool_values = pool @ rows.T  # (P, A): row a's value at each pool point
    pool_slack = pool[:, -1].copy()  # per point, its slack in the node's cell (w >= t, then each row's)
    # Each node: (prefix pattern, witness y or None, the witness's slack, the pool points inside it).
    nodes: list[tuple[tuple[bool, ...], np.ndarray | None, float, np.ndarray]] = [
        ((), None, np.inf, np.flatnonzero(pool_slack > tol))]
    for a in range(n_rows):
        grown = []
        for prefix, witness, slack, inside in nodes:
            if zero[a]:
                grown.append((prefix + (True,), witness, slack, inside))
                continue
            for positive in (False, True):
                child = prefix + (positive,)
                sign = 1.0 if positive else -1.0
                child_inside = inside[sign * pool_values[inside, a] > tol]
                if witness is not None and sign * rows[a] @ witness > tol:
                    grown.append((child, witness, min(slack, sign * rows[a] @ witness), child_inside))
                    continue
                if child_inside.size:
                    active = [b for b in range(a + 1) if not zero[b]]
                    signs = np.array([1.0 if child[b] else -1.0 for b in active])
                    slacks = np.minimum((signs * pool_values[np.ix_(child_inside, active)]).min(axis=1),
                                        pool_slack[child_inside])
                    best = int(np.argmax(slacks))
                    grown.append((child, pool[child_inside[best]], float(slacks[best]), child_inside))
                    continue
                active = [b for b in range(a + 1) if not zero[b]]
                signs = np.array([1.0 if child[b] else -1.0 for b in active])
                point, point_slack = _max_slack(signs[:, None] * rows[active])
                if point_slack > tol:
                    grown.append((child, point, point_slack, child_inside))
        nodes = grown
    patterns = np.array([prefix for prefix, *_ in nodes], dtype=bool).reshape(len(nodes), n_rows)
    points = np.array([_dehomogenize(witness, dim) for _, witness, *_ in nodes]).reshape(len(nodes), dim)
    order = np.lexsort(patterns.T[::-1])
    return patterns[order], points[order]


def _check_region_tol(tol) -> float:
    """``tol`` as a float in ``[0, MAX_REGION_TOL]``; ``ValueError`` naming it otherwise."""
    tol = as_nonnegative_float(tol, "tol")
    check_range(np.array(tol), "tol", low=0.0, high=MAX_REGION_TOL)
    return tol


def _dehomogenize(witness: np.ndarray | None, dim: int) -> np.ndarray:
    # No witness means no non-zero row at all: the whole space is one cell, witnessed by the origin.
    return np.zeros(dim) if witness is None else witness[:dim] / witness[dim]


def _max_slack(signed_rows: np.ndarray) -> tuple[np.ndarray, float]:
    """Solve ``max t s.t. signed_rows . y >= t, w >= t, y in [-1,1]^n`` (``w = y[-1]``); return ``y`` and its exact slack."""
    n_rows, n = signed_rows.shape
    homogenizer = np.zeros((1, n))
    homogenizer[0, -1] = 1.0
    constraints = np.vstack([signed_rows, homogenizer])
    a_ub = np.hstack([-constraints, np.ones((n_rows + 1, 1))])
    objective = np.zeros(n + 1)
    objective[-1] = -1.0
    result = linprog(objective, A_ub=a_ub, b_ub=np.zeros(n_rows + 1), bounds=[(-1.0, 1.0)] * (n + 1),
                     method="highs")
    if result.status != 0:
        raise RuntimeError(f"region LP failed: {result.message}")
    point = result.x[:n]
    # Recompute the slack exactly rather than trusting the solver's t (feasibility tolerance).
    return point, float((constraints @ point).min())


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
    tol = _check_region_tol(tol)
    X = game.action_features
    if isinstance(prior, FiniteSupportPrior):
        atoms = prior.atoms[prior.probabilities > 0]
        patterns, first = np.unique(decision_patterns(game, atoms), axis=0, return_index=True)
        return patterns, atoms[first]
    if isinstance(prior, SamplerPrior):
        return enumerate_cells(X, tol=tol)
    patterns, points = enumerate_cells(X @ prior.factor, X @ prior.mean, tol=tol)
    return patterns, prior.mean + points @ prior.factor.T


@dataclass(frozen=True)
class RegionMasses:
    """Prior probabilities of regions and how they were obtained.

    Attributes:
        masses: ``(R,)`` probabilities in ``[0, 1]`` summing to 1 (up to rounding).
        errors: ``(R,)`` absolute error estimates, about 3 standard errors: 0 for ``finite-sum``;
            for ``monte-carlo`` ``3 sqrt(max(p (1 - p), 1/N) / N)`` (the flooring gives the "rule of three"
            ``3/N`` for regions no sample hit); for ``orthant`` scipy's randomized-QMC estimates ``e_r``
            (``1e-15`` in dimension <= 2, where it is a closed form) of the integrals ``m_r``, carried through
            their clipping to ``[0, 1]`` and renormalization by ``S = sum_r m_r``: as ``|S - 1| <= E = sum_r e_r``,
            the renormalized mass is off by at most ``(e_r + min(1, m_r + e_r) E) / S``.
        method: one of ``MASS_METHODS``.
        n_samples: Monte Carlo sample size (0 for the other methods).
    """

    masses: np.ndarray
    errors: np.ndarray
    method: str
    n_samples: int = 0


def region_masses(game: PersuasionGame, patterns, method: str = "auto", rng: np.random.Generator | None = None,
                  n_samples: int = 100_000, abseps: float = 1e-6) -> RegionMasses:
    """Prior mass of each region ``patterns`` ``(R, A)``.

    ``method``:
      * ``"auto"``: exact when possible (``finite-sum`` or ``orthant``), ``monte-carlo`` otherwise;
      * ``"exact"``: as auto, but ``ValueError`` when no exact method applies;
      * a name of ``MASS_METHODS`` asks for that method (``ValueError`` if it does not apply); ``"monte-carlo"``:
        ``n_samples`` rules from the prior, counted per pattern (the only method for a :class:`SamplerPrior`).

    Gaussian ``orthant``: ``v = X theta ~ N(X mu, X Sigma X^T)`` and a region is an orthant of ``v``
    (signs flipped by the pattern). Coordinates of ``v`` with zero variance are deterministic, and
    coordinates that are exact multiples of another on the prior's support (e.g. two actions with the
    same features) share or flip its sign: patterns are checked against both. The remaining coordinates
    are integrated with scipy's Genz randomized-QMC multivariate normal integrator to absolute error
    ``abseps`` (``> 0``), which needs their covariance non-singular (typically ``A <= rank(Sigma)``; with
    more actions than dimensions ``v`` is degenerate and ``auto`` falls back to Monte Carlo). The integrals
    are then renormalized to sum to 1 (see :class:`RegionMasses` for the error this adds).

    ``rng`` drives the QMC shifts and the Monte Carlo draws; ``None`` means a fixed
    ``np.random.default_rng(0)`` so repeated calls agree. A Monte Carlo draw whose pattern is not in
    ``patterns`` raises ``RuntimeError`` (the regions were not enumerated completely).
    """
    chosen, rng, n_samples, abseps = _mass_arguments(game, method, rng, n_samples, abseps)
    patterns = np.asarray(patterns, dtype=bool)
    if patterns.ndim != 2 or patterns.shape[1] != game.n_actions:
        raise ValueError(f"patterns must have shape (R, {game.n_actions}), got {patterns.shape}")
    if chosen == "finite-sum":
        return _finite_masses(game, patterns)
    if chosen == "orthant":
        return _orthant_masses(patterns, _sign_structure(game), rng, abseps)
    counts = np.zeros(patterns.shape[0])
    chunk = 50_000
    for start in range(0, n_samples, chunk):
        located = locate_patterns(patterns, decision_patterns(game, game.prior.sample(rng, min(chunk, n_samples - start))))
        if np.any(located < 0):
            raise RuntimeError("a prior draw fell in a region that is not among patterns: enumerate the regions "
                               "with enumerate_regions (or a smaller tol) before estimating masses")
        counts += np.bincount(located, minlength=patterns.shape[0])
    masses = counts / n_samples
    errors = 3.0 * np.sqrt(np.maximum(masses * (1.0 - masses), 1.0 / n_samples) / n_samples)
    return RegionMasses(masses, errors, "monte-carlo", n_samples)


def _mass_arguments(game, method, rng, n_samples, abseps) -> tuple[str, np.random.Generator, int, float]:
    """:func:`region_masses`' checks, all made before any work (also by :func:`equivalence_regions`, ahead of the
    enumeration): the method chosen, the rng (``None``: ``default_rng(0)``), ``n_samples`` and ``abseps``."""
    check_instance(game, PersuasionGame, "game")
    if method not in ("auto", "exact", *MASS_METHODS):
        raise ValueError(f"method must be 'auto', 'exact' or one of {MASS_METHODS}, got {method!r}")
    abseps = as_nonnegative_float(abseps, "abseps", positive=True)
    n_samples = as_positive_int(n_samples, "n_samples")  # even when unused, so a bad value never passes silently
    rng = np.random.default_rng(0) if rng is None else check_rng(rng)
    available = _exact_mass_method(game)
    chosen = {"auto": available or "monte-carlo", "exact": available}.get(method, method)
    if chosen not in ("monte-carlo", available) or chosen is None:
        allowed = " or ".join(repr(name) for name in (available, "monte-carlo") if name)
        raise ValueError(f"method={method!r} does not apply to this game: 'finite-sum' needs a finite-support prior, "
                         f"'orthant' a Gaussian prior with a non-degenerate covariance of X theta (more actions than "
                         f"prior dimensions make it singular); use 'auto' or {allowed}")
    return chosen, rng, n_samples, abseps


def _exact_mass_method(game: PersuasionGame) -> str | None:
    """The exact mass method that applies to ``game`` (``"finite-sum"`` or ``"orthant"``), or ``None``."""
    if isinstance(game.prior, FiniteSupportPrior):
        return "finite-sum"
    if isinstance(game.prior, GaussianPrior) and _orthant_applicable(_sign_structure(game)):
        return "orthant"
    return None


def _finite_masses(game: PersuasionGame, patterns: np.ndarray) -> RegionMasses:
    located = locate_patterns(patterns, decision_patterns(game, game.prior.atoms))
    positive = game.prior.probabilities > 0
    if np.any(located[positive] < 0):
        raise RuntimeError("an atom of the prior has a pattern that is not among patterns")
    masses = np.bincount(located[positive], weights=game.prior.probabilities[positive], minlength=patterns.shape[0])
    return RegionMasses(np.clip(masses, 0.0, 1.0), np.zeros(patterns.shape[0]), "finite-sum")


@dataclass(frozen=True)
class _SignStructure:
    """How the signs of ``v = X theta`` are tied: ``v_a`` is deterministic (``fixed``, sign ``v_a >= 0`` given
    by ``positive``) or ``v_a = c_a v_r`` with ``r = representative[a]`` and ``c_a < 0`` iff ``flipped[a]``."""

    fixed: np.ndarray
    positive: np.ndarray
    representative: np.ndarray
    flipped: np.ndarray
    representatives: np.ndarray
    mean: np.ndarray
    covariance: np.ndarray


def _sign_structure(game: PersuasionGame) -> _SignStructure:
    X, prior = game.action_features, game.prior
    random_part, mean = X @ prior.factor, X @ prior.mean
    variances = np.sum(random_part**2, axis=1)
    fixed = variances <= 1e-12 * max(variances.max(), 1e-300)
    # Rows of (X L, X mu) that are (anti-)parallel give v's that are exact multiples of each other.
    rows = np.hstack([random_part, mean[:, None]])
    units = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-300)
    representative, flipped, representatives = np.arange(X.shape[0]), np.zeros(X.shape[0], dtype=bool), []
    for a in np.flatnonzero(~fixed):
        for r in representatives:
            for flip, sign in ((False, 1.0), (True, -1.0)):
                if np.allclose(units[a], sign * units[r], rtol=0.0, atol=1e-12):
                    representative[a], flipped[a] = r, flip
                    break
            if representative[a] != a:
                break
        else:
            representatives.append(a)
    representatives = np.array(representatives, dtype=np.int64)
    covariance = random_part[representatives] @ random_part[representatives].T
    return _SignStructure(fixed, mean >= 0.0, representative, flipped, representatives, mean, covariance)


def _orthant_applicable(structure: _SignStructure) -> bool:
    if structure.representatives.size == 0:
        return True
    eigenvalues = np.linalg.eigvalsh(structure.covariance)
    return bool(eigenvalues.min() > 1e-10 * eigenvalues.max())


def _orthant_masses(patterns: np.ndarray, structure: _SignStructure, rng: np.random.Generator,
                    abseps: float) -> RegionMasses:
    masses, errors = np.zeros(patterns.shape[0]), np.zeros(patterns.shape[0])
    tied = ~structure.fixed
    reps = structure.representatives
    for r, pattern in enumerate(patterns):
        if np.any(pattern[structure.fixed] != structure.positive[structure.fixed]):
            continue
        if np.any(pattern[tied] != (pattern[structure.representative[tied]] ^ structure.flipped[tied])):
            continue
        if reps.size == 0:
            masses[r] = 1.0
            continue
        # P(D v >= 0) with D = diag(2 s - 1) is P(u <= D mean) for u ~ N(0, D C D): a CDF at a point.
        signs = np.where(pattern[reps], 1.0, -1.0)
        upper = signs * structure.mean[reps]
        covariance = structure.covariance * np.outer(signs, signs)
        if _qauto is None:
            probability, error = multivariate_normal.cdf(upper, cov=covariance, abseps=abseps, rng=rng), abseps
        else:
            probability, error, _ = _qauto(_qmvn, covariance, np.full(upper.shape, -np.inf), upper, rng,
                                           error=abseps, limit=1_000_000 * upper.size, n_batches=10)
        masses[r], errors[r] = float(np.squeeze(probability)), float(error)
    # Clipping only moves an integral towards its true value (in [0, 1]), so the errors still hold.
    masses = np.clip(masses, 0.0, 1.0)
    total = masses.sum()
    if not total > 0:
        raise RuntimeError("the orthant integrals of the regions sum to 0: the regions miss the prior's mass")
    errors = (errors + np.minimum(masses + errors, 1.0) * errors.sum()) / total
    return RegionMasses(masses / total, errors, "orthant")


def _pattern_keys(patterns: np.ndarray) -> np.ndarray:
    """Pack boolean rows ``(N, A)`` into 64-bit words: ``(N,)`` when ``A <= 64`` (fast 1-d sorting), else ``(N, W)``."""
    packed = np.packbits(patterns, axis=1)
    width = -(-packed.shape[1] // 8) * 8
    words = np.zeros((packed.shape[0], width), dtype=np.uint8)
    words[:, :packed.shape[1]] = packed
    keys = words.view(np.uint64)
    return keys[:, 0] if keys.shape[1] == 1 else keys


def locate_patterns(table, patterns) -> np.ndarray:
    """Row indices in ``table`` ``(R, A)`` of each of ``patterns`` ``(N, A)``; ``-1`` where absent."""
    table = np.asarray(table, dtype=bool)
    patterns = np.asarray(patterns, dtype=bool).reshape(-1, table.shape[1])
    keys = _pattern_keys(np.vstack([table, patterns]))
    _, inverse = np.unique(keys, axis=0 if keys.ndim == 2 else None, return_inverse=True)
    inverse = inverse.reshape(-1)
    rows = np.full(inverse.max(initial=-1) + 1, -1, dtype=np.int64)
    rows[inverse[:table.shape[0]][::-1]] = np.arange(table.shape[0])[::-1]  # first row wins on duplicates
    return rows[inverse[table.shape[0]:]]


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

    @property
    def n_regions(self) -> int:
        """``R``, the number of regions."""
        return self.patterns.shape[0]

    @property
    def n_actions(self) -> int:
        """``A``, the number of actions."""
        return self.patterns.shape[1]

    def locate(self, patterns) -> np.ndarray:
        """Region indices of ``patterns`` ``(N, A)``; ``-1`` for a pattern that is not a region."""
        return locate_patterns(self.patterns, patterns)

    def check_game(self, game: PersuasionGame, name: str = "regions") -> None:
        """Raise ``ValueError`` naming ``name`` unless these regions were computed for ``game``: the recorded game
        has the same features, effects, costs, prior and ``u_P`` (labels may differ). A few array comparisons."""
        if self.game is None:
            raise ValueError(f"{name} must record the game they were computed for: build them with "
                             f"equivalence_regions(game) (or pass game= to Regions)")
        differing = [item for item in _MODEL_FIELDS if not _values_equal(getattr(self.game, item), getattr(game, item))]
        if differing:
            raise ValueError(f"{name} must be computed for this game (equivalence_regions(game)): they were computed "
                             f"for a game with a different {', '.join(differing)}")


def equivalence_regions(game: PersuasionGame, method: str = "auto", rng: np.random.Generator | None = None,
                        n_samples: int = 100_000, abseps: float = 1e-6, tol: float = REGION_TOL) -> Regions:
    """Enumerate the regions of ``game`` (:func:`enumerate_regions`) and their masses (:func:`region_masses`).

    Every argument is checked before the enumeration, which is the slow part."""
    _mass_arguments(game, method, rng, n_samples, abseps)
    patterns, witnesses = enumerate_regions(game, tol)
    masses = region_masses(game, patterns, method, rng, n_samples, abseps)
    principal, agent = region_payoffs(game, patterns)
    return Regions(patterns, witnesses, masses.masses, masses.errors, masses.method, principal, agent, game)


# ---------------------------------------------------------------------------------------------
# Best responses and the exact evaluation of a scheme
# ---------------------------------------------------------------------------------------------

def agent_choice(agent_values, principal_values, preferred=None, tie_tol=TIE_TOL) -> np.ndarray:
    """The agent's action given expected utilities ``agent_values`` and ``principal_values`` ``(..., A)``.

    Among actions within ``tie_tol`` (a number, or one per leading index ``(...)``) of the best agent
    value: ``preferred`` ``(...)`` (the recommendation) if it is one of them (obedience); otherwise the
    one the principal values most (within ``tie_tol``), then the lowest index. Returns indices ``(...)``.
    """
    agent_values = np.asarray(agent_values, dtype=np.float64)
    tolerance = as_real_array(tie_tol, "tie_tol")
    check_range(tolerance, "tie_tol", low=0.0)
    tolerance = tolerance[..., None]
    tied = agent_values >= agent_values.max(axis=-1, keepdims=True) - tolerance
    favoured = np.where(tied, principal_values, -np.inf)  # untied actions can never be candidates below
    choice = (favoured >= favoured.max(axis=-1, keepdims=True) - tolerance).argmax(axis=-1)
    if preferred is None:
        return choice
    preferred = np.asarray(preferred)
    obeyed = (tied & (np.arange(agent_values.shape[-1]) == preferred[..., None])).any(axis=-1)
    return np.where(obeyed, preferred, choice)


def _favourite_of_the_best(agent: list[float], principal: list[float], threshold: float, tolerance: float) -> int:
    """:func:`agent_choice`'s rule when obedience fails, for one decision on finite lists in plain Python (a scheme's
    evaluation makes one per recommendation, where numpy's per-call overhead on length-``A`` rows dominated): among
    actions with agent value ``>= threshold``, the one the principal values most (within ``tolerance``), then the
    lowest index."""
    tied = [b for b, value in enumerate(agent) if value >= threshold]
    if len(tied) == 1:
        return tied[0]
    favourite = max([principal[b] for b in tied]) - tolerance
    return next(b for b in tied if principal[b] >= favourite)


def check_scheme(scheme, n_regions: int, n_actions: int, name: str = "scheme", atol: float = 1e-6) -> np.ndarray:
    """Validate a scheme ``(R, A)``: finite, rows on the simplex within ``atol``; return it clipped and renormalized."""
    scheme = np.asarray(scheme, dtype=np.float64)
    if scheme.shape != (n_regions, n_actions):
        raise ValueError(f"{name} must have shape (regions, actions) = ({n_regions}, {n_actions}), got {scheme.shape}")
    if not np.all(np.isfinite(scheme)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if np.any(scheme < -atol) or np.any(np.abs(scheme.sum(axis=1) - 1.0) > atol):
        raise ValueError(f"{name} rows must lie on the probability simplex (>= 0, summing to 1)")
    scheme = np.clip(scheme, 0.0, None)
    return scheme / scheme.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class SchemeEvaluation:
    """Exact outcome of a scheme under the region masses.

    Attributes:
        responses: ``(A,)`` the agent's action on each recommendation (its posterior best response,
            ties to obedience); a never-recommended action maps to itself.
        recommendation_probabilities: ``(A,)`` probability of each recommendation.
        posterior_agent_values: ``(A, A)``: ``[a, b]`` = the agent's posterior expected utility of action
            ``b`` after recommendation ``a`` (0 for never-recommended ``a``).
        principal_value, agent_value: expected ``u_P`` and ``u_A`` when the agent plays ``responses``.
        bic_slack: ``min`` over recommended ``a`` of ``E[u_A(a) | a] - max_{b != a} E[u_A(b) | a]``
            (utility units); ``>= -tie_tol`` means obedient (BIC).
    """

    responses: np.ndarray
    recommendation_probabilities: np.ndarray
    posterior_agent_values: np.ndarray
    principal_value: float
    agent_value: float
    bic_slack: float

    @property
    def obedient(self) -> bool:
        """Whether the agent follows every recommendation made with positive probability."""
        recommended = self.recommendation_probabilities > 0
        return bool(np.all(self.responses[recommended] == np.flatnonzero(recommended)))


def evaluate_scheme(regions: Regions, scheme, tie_tol: float = TIE_TOL, check: bool = True,
                    precision: float = 0.0) -> SchemeEvaluation:
    """Evaluate scheme ``(R, A)`` exactly: the agent best-responds to each recommendation's posterior.

    The joint law of (region, recommendation) is ``masses[s] * scheme[s, a]``; the posterior after
    ``a`` is that column normalized. Ties are judged on posterior (normalized) utilities, i.e. on the
    unnormalized sums with tolerance ``tie_tol * P(a)`` (``tie_tol >= 0``), widened by
    ``precision * precision_unit(regions)`` for a scheme known only to a relative ``precision`` (an env's float32
    action: ``stratgym.games.ties.precision_slack``; 0 for an exact scheme). ``check=False`` skips validating
    ``scheme`` (for callers whose schemes are on the simplex by construction, e.g. from ``box_to_simplex``).
    """
    check_instance(regions, Regions, "regions")
    tie_tol = as_nonnegative_float(tie_tol, "tie_tol")
    precision = as_nonnegative_float(precision, "precision")
    if check:
        scheme = check_scheme(scheme, regions.n_regions, regions.n_actions)
    weighted = weighted_payoffs(regions)
    sums, responses, principal_value, agent_value, bic_slack = best_responses(
        weighted, scheme, tie_tol, precision * precision_unit(regions))
    A = regions.n_actions
    probabilities = sums[:, 2 * A].copy()
    posterior = sums[:, :A] / np.where(probabilities > 0, probabilities, 1.0)[:, None]
    return SchemeEvaluation(responses=np.array(responses), recommendation_probabilities=probabilities,
                            posterior_agent_values=posterior, principal_value=principal_value,
                            agent_value=agent_value, bic_slack=bic_slack)


def weighted_payoffs(regions: Regions) -> np.ndarray:
    """``masses[s] * [u_A(s, .), u_P(s, .), 1]``, shape ``(R, 2A + 1)``: what :func:`evaluate_scheme` needs of the
    regions, so that one product with a scheme gives every recommendation's joint sums (envs compute it once)."""
    ones = np.ones((regions.n_regions, 1))
    stacked = np.concatenate([regions.agent_payoffs, regions.principal_payoffs, ones], axis=1)
    return regions.masses[:, None] * stacked


def precision_unit(regions: Regions) -> float:
    """``sum_s masses[s] * (max_b u_A(s, b) - min_b u_A(s, b))`` (ex-ante utility units): what a scheme's rows moving by
    at most 1 in L1 norm can change any recommendation's obedience slack by, the unit of a precision widening of
    the tie zone (:mod:`stratgym.games.ties`)."""
    return float(regions.masses @ np.ptp(regions.agent_payoffs, axis=1))


def best_responses(weighted: np.ndarray, scheme: np.ndarray, tie_tol: float, widening: float = 0.0) -> tuple:
    """The core of :func:`evaluate_scheme` for a checked scheme ``(R, A)`` and :func:`weighted_payoffs`:
    ``(sums, responses, principal_value, agent_value, bic_slack)``. ``widening`` (ex-ante utility units) is added
    to every recommendation's tie tolerance ``tie_tol * P(a)``.

    ``sums`` ``(A, 2A + 1)``: per recommendation ``a``, ``E[u_A(b); a]`` and ``E[u_P(b); a]`` for every ``b``,
    then ``P(a)``, all from one product; ``responses`` is a list. The ``A`` decisions on those sums are made
    in plain Python (:func:`agent_choice`'s rule), which on ``A x A`` sums is several times faster than numpy.
    """
    A = scheme.shape[1]
    A2 = 2 * A
    sums = scheme.T.dot(weighted)
    responses = []
    principal_value = agent_value = 0.0
    bic_slack, recommended = np.inf, False
    for a, row in enumerate(sums.tolist()):
        agent = row[:A]
        probability = row[A2]
        tolerance = tie_tol * probability + widening
        best = max(agent)
        own = agent[a]
        threshold = best - tolerance  # agent_choice's rule: obey if a is among the best, else the principal's favourite
        response = a if own >= threshold else _favourite_of_the_best(agent, row[A:A2], threshold, tolerance)
        responses.append(response)
        principal_value += row[A + response]
        agent_value += agent[response]
        if probability > 0:
            recommended = True
            # The best other action: the maximum, unless it is a's own value; then the runner-up.
            other = best if own < best else (sorted(agent)[-2] if A > 1 else -np.inf)
            # Posterior values are these sums over P(a): dividing keeps their order.
            slack = own / probability - other / probability
            if slack < bic_slack:
                bic_slack = slack
    if not recommended:
        raise ValueError("regions must have a region of positive mass: no recommendation has positive probability")
    return sums, responses, principal_value, agent_value, bic_slack


def full_revelation_scheme(regions: Regions, tie_tol: float = TIE_TOL) -> np.ndarray:
    """The scheme ``(R, A)`` recommending the agent's best response in each region (ties to the principal)."""
    choice = agent_choice(regions.agent_payoffs, regions.principal_payoffs, tie_tol=tie_tol)
    return np.eye(regions.n_actions)[choice]


def no_information_scheme(regions: Regions, tie_tol: float = TIE_TOL) -> np.ndarray:
    """The scheme ``(R, A)`` recommending, everywhere, the agent's best response to the prior (ties to the principal)."""
    total = regions.masses.sum()
    choice = agent_choice(regions.masses @ regions.agent_payoffs / total,
                          regions.masses @ regions.principal_payoffs / total, tie_tol=tie_tol)
    return np.tile(np.eye(regions.n_actions)[choice], (regions.n_regions, 1))


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
