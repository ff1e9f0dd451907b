"""Stackelberg matrix games: a leader commits to a mixed strategy, a follower (of a type drawn from a prior) responds.

The leader has ``m`` actions (rows), the follower ``n`` (columns) and one of ``K`` types, drawn from ``type_prior``
(Bayesian Stackelberg games; ``K = 1`` is the classic bimatrix case). Type ``k`` has payoff matrices ``A^k``
(leader) and ``B^k`` (follower), both ``(m, n)``. The leader commits to ``x`` on the simplex of rows; the follower
of type ``k`` observes ``x`` (not the row drawn from it) and plays a column ``j`` maximizing ``x . B^k[:, j]``.

Ties (:mod:`stratgym.games.ties`): columns whose follower values lie within ``tie_tol`` (``TIE_TOL``) times the
type's unit of value :func:`follower_scales` (the largest ``|B^k|``) of the best are tied, and the follower breaks
them in the leader's favour (strong Stackelberg): the tied column with the largest ``x . A^k[:, j]``, then the lowest
index. Envs widen ``tie_tol`` by the precision of the action they received (``precision_slack``), as every
stratgym env does, so the float32 encoding of an exact optimum earns it.

Values are expectations over the leader's row (and over types for the leader's value): the leader's value of a
commitment is ``sum_k p_k x . A^k[:, j_k(x)]``.

Named instances: :func:`conitzer_sandholm` (commitment beats every Nash equilibrium), :func:`paruchuri_example`,
:func:`security_game` (Bayesian, two attacker types: the envs' default), :func:`battle_of_the_sexes`,
:func:`matching_pennies`, :func:`random_matrix_game`, :func:`random_security_game`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from stratgym.games.fields import FieldwiseEqual, axis_length
from stratgym.games.validation import as_nonnegative_float, as_positive_int, as_real_array, check_range
from stratgym.games.ties import TIE_TOL

#: Tolerance on a prior's or a strategy's total before it is renormalized (``ValueError`` beyond it).
SIMPLEX_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class MatrixGame(FieldwiseEqual):
    """A (Bayesian) Stackelberg matrix game, validated at construction (``ValueError`` naming the field).

    Attributes:
        leader_payoffs: ``A``, ``(m, n)`` or ``(K, m, n)``: the leader's payoff when it plays row ``i`` and the
            follower (of type ``k``) column ``j``. Stored as ``(K, m, n)`` (an ``(m, n)`` matrix is shared by all types).
        follower_payoffs: ``B``, ``(m, n)`` or ``(K, m, n)``: the follower's payoffs; ``K`` is the number of types.
            Stored as ``(K, m, n)``.
        type_prior: ``p``, ``(K,)``, ``>= 0`` summing to 1 (renormalized within ``SIMPLEX_TOL``); ``None``: uniform.
    """

    leader_payoffs: np.ndarray
    follower_payoffs: np.ndarray
    type_prior: np.ndarray | None = None

    def __post_init__(self):
        set_ = lambda field, value: object.__setattr__(self, field, value)  # noqa: E731 (frozen dataclass)
        follower = as_real_array(self.follower_payoffs, "follower_payoffs")
        if follower.ndim == 2:
            follower = follower[None]
        if follower.ndim != 3 or min(follower.shape) < 1:
            raise ValueError(f"follower_payoffs must be (m, n) or (K, m, n) with every size >= 1, got shape "
                             f"{np.shape(self.follower_payoffs)}")
        n_types, m, n = follower.shape
        leader = as_real_array(self.leader_payoffs, "leader_payoffs")
        if leader.shape == (m, n):
            leader = np.broadcast_to(leader, (n_types, m, n))
        if leader.shape != (n_types, m, n):
            raise ValueError(f"leader_payoffs must have shape ({m}, {n}) or ({n_types}, {m}, {n}) like "
                             f"follower_payoffs {np.shape(self.follower_payoffs)}, got {np.shape(self.leader_payoffs)}")
        prior = np.full(n_types, 1.0 / n_types) if self.type_prior is None else \
            as_real_array(self.type_prior, "type_prior", shape=(n_types,))
        check_range(prior, "type_prior", low=0.0)
        if abs(prior.sum() - 1.0) > SIMPLEX_TOL:
            raise ValueError(f"type_prior must sum to 1, got {prior} (sum {prior.sum()})")
        for field, value in (("leader_payoffs", leader), ("follower_payoffs", follower), ("type_prior", prior / prior.sum()),
                             # Derived, not fields: the payoffs as (m, K n) matrices, so that a strategy's values are
                             # one matrix product (envs evaluate one per step), and the types' tie units.
                             ("_rows", np.stack([follower, leader], axis=1).transpose(2, 1, 0, 3)
                              .reshape(m, 2 * n_types * n)),
                             ("_scales", np.abs(follower).max(axis=(1, 2)))):
            array = np.array(value, dtype=np.float64)
            array.setflags(write=False)
            set_(field, array)
        set_("_scales", np.where(self._scales > 0, self._scales, 1.0))
        self._scales.setflags(write=False)

    n_types = axis_length("follower_payoffs", 0, "``K``, the number of follower types.")
    n_leader_actions = axis_length("follower_payoffs", 1, "``m``, the leader's actions (rows).")
    n_follower_actions = axis_length("follower_payoffs", 2, "``n``, the follower's actions (columns).")

    def replace(self, **changes) -> "MatrixGame":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def follower_scales(game: MatrixGame) -> np.ndarray:
    """``(K,)`` each type's unit of value for ties: its largest ``|B^k_ij|`` (1 for an all-zero ``B^k``). It bounds
    every coefficient of the follower's values, as :mod:`stratgym.games.ties` asks of a unit."""
    return game._scales


def check_strategy(game: MatrixGame, strategy, name: str = "strategy", atol: float = SIMPLEX_TOL) -> np.ndarray:
    """A leader mixed strategy ``(m,)`` (or a batch ``(b, m)``) checked to lie on the simplex within ``atol``, returned
    clipped and renormalized (float64); ``ValueError`` naming ``name`` otherwise."""
    array = as_real_array(strategy, name)
    if array.ndim not in (1, 2) or array.shape[-1] != game.n_leader_actions:
        raise ValueError(f"{name} must have shape ({game.n_leader_actions},) (or a batch (b, "
                         f"{game.n_leader_actions})), got {array.shape}")
    if array.min() < -atol or np.any(np.abs(array.sum(axis=-1) - 1.0) > atol):
        raise ValueError(f"{name} must be >= 0 and sum to 1 (within {atol:g}), got {array}")
    clipped = np.maximum(array, 0.0)
    return clipped / clipped.sum(axis=-1, keepdims=True)


def column_values(game: MatrixGame, strategy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(follower, leader)``, each ``(..., K, n)``: against ``strategy`` ``(..., m)``, type ``k``'s expected payoff
    ``x . B^k[:, j]`` of each column ``j``, and the leader's ``x . A^k[:, j]`` (one matrix product for both)."""
    both = (strategy @ game._rows).reshape(strategy.shape[:-1] + (2,) + game.follower_payoffs.shape[::2])
    return both[..., 0, :, :], both[..., 1, :, :]


def follower_values(game: MatrixGame, strategy: np.ndarray) -> np.ndarray:
    """``(..., K, n)``: each type's expected payoff ``x . B^k[:, j]`` of each column against ``strategy`` ``(..., m)``."""
    return column_values(game, strategy)[0]


def leader_values(game: MatrixGame, strategy: np.ndarray) -> np.ndarray:
    """``(..., K, n)``: the leader's expected payoff ``x . A^k[:, j]`` against each type's column ``j``."""
    return column_values(game, strategy)[1]


def strong_response(game: MatrixGame, follower: np.ndarray, leader: np.ndarray, tie_tol: float = TIE_TOL) -> np.ndarray:
    """``(..., K)`` int: each type's column given the :func:`column_values` ``follower`` and ``leader``: a best
    response, ties (within ``tie_tol`` units of :func:`follower_scales`) to the leader, then the lowest index."""
    if follower.ndim == 2:  # one strategy (a scalar env's step): a few numbers per type, faster compared in Python
        return np.array([_strong_column(values, payoffs, tie_tol * scale) for values, payoffs, scale
                         in zip(follower.tolist(), leader.tolist(), game._scales.tolist())], dtype=np.int64)
    # One pass per column (a reduction over a short last axis costs numpy far more on a batch).
    best = follower[..., 0]
    for j in range(1, follower.shape[-1]):
        best = np.maximum(best, follower[..., j])
    threshold = best - tie_tol * game._scales
    # Among tied columns the leader's best; a later column replaces it only if strictly better: the lowest index.
    top = np.where(follower[..., 0] >= threshold, leader[..., 0], -np.inf)
    choice = np.zeros(top.shape, dtype=np.int64)
    for j in range(1, follower.shape[-1]):
        value = np.where(follower[..., j] >= threshold, leader[..., j], -np.inf)
        choice = np.where(value > top, j, choice)
        top = np.maximum(top, value)
    return choice


def _strong_column(follower: list[float], leader: list[float], tolerance: float) -> int:
    """:func:`strong_response` of one type from its column values (lists): the same comparisons in the same order,
    NaN included (``np.maximum`` keeps a NaN, ``max`` would not)."""
    best = follower[0]
    for value in follower[1:]:
        if not (best >= value or best != best):
            best = value
    threshold = best - tolerance
    top, choice = (leader[0] if follower[0] >= threshold else -np.inf), 0
    for j in range(1, len(follower)):
        value = leader[j] if follower[j] >= threshold else -np.inf
        if value > top:
            top, choice = value, j
        elif not (top >= value or top != top):  # np.maximum(top, value): a NaN value replaces top
            top = value
    return choice


def follower_response(game: MatrixGame, strategy: np.ndarray, tie_tol: float = TIE_TOL) -> np.ndarray:
    """``(..., K)`` int: each type's column against the checked ``strategy`` ``(..., m)`` (:func:`strong_response`)."""
    return strong_response(game, *column_values(game, strategy), tie_tol)


@dataclass(frozen=True)
class Commitment:
    """A leader commitment and the followers' responses to it.

    Attributes:
        strategy: ``(m,)`` the leader's mixed strategy.
        responses: ``(K,)`` each type's column.
        leader_value: the leader's expected payoff ``sum_k p_k x . A^k[:, j_k]``.
        follower_value: the follower's expected payoff ``sum_k p_k x . B^k[:, j_k]``.
        leader_values: ``(K,)`` the leader's expected payoff against each type.
        follower_values: ``(K,)`` each type's expected payoff.
        incentive_margins: ``(K,)`` by how much each type's column beats its best alternative, in units of
            :func:`follower_scales` (negative down to ``-tie_tol`` on a tie; ``inf`` with one column).
    """

    strategy: np.ndarray
    responses: np.ndarray
    leader_value: float
    follower_value: float
    leader_values: np.ndarray
    follower_values: np.ndarray
    incentive_margins: np.ndarray


def evaluate_commitment(game: MatrixGame, strategy, tie_tol: float = TIE_TOL) -> Commitment:
    """Play ``strategy`` ``(m,)`` against every follower type (ties within ``tie_tol``, to the leader)."""
    strategy = check_strategy(game, strategy)
    if strategy.ndim != 1:
        raise ValueError(f"strategy must be one strategy (m,), got shape {strategy.shape}")
    follower, leader = column_values(game, strategy)
    responses = strong_response(game, follower, leader, tie_tol)
    types = np.arange(game.n_types)
    chosen = follower[types, responses]
    others = np.where(np.arange(game.n_follower_actions) == responses[:, None], -np.inf, follower)
    margins = (chosen - others.max(axis=1)) / follower_scales(game)
    return Commitment(strategy=strategy, responses=responses, leader_value=float(game.type_prior @ leader[types, responses]),
                      follower_value=float(game.type_prior @ chosen), leader_values=leader[types, responses],
                      follower_values=chosen, incentive_margins=margins)


# ---------------------------------------------------------------------------------------------
# Who follows
# ---------------------------------------------------------------------------------------------

@runtime_checkable
class Follower(Protocol):
    """A follower facing a committed leader (the opponent of ``MatrixCommitment-v0``).

    ``respond(game, strategy, follower_type, rng)`` gets the game, the leader's mixed strategy ``(m,)``, the type
    drawn for this episode and the env's ``np_random`` (its only source of randomness), and returns a column in
    ``0..n-1``. The rational follower is the env's default (``"rational"``: :func:`follower_response`).
    """

    def respond(self, game: MatrixGame, strategy: np.ndarray, follower_type: int, rng: np.random.Generator) -> int:
        """The column played against ``strategy``."""
        ...


class QuantalFollower:
    """A boundedly rational follower: column ``j`` with probability proportional to ``exp(beta u_j / s)``, ``u_j`` its
    expected payoff and ``s`` its type's unit (:func:`follower_scales`), so ``beta`` is scale-free (``beta -> inf``:
    a best response, ties uniform)."""

    def __init__(self, beta: float):
        self.beta = as_nonnegative_float(beta, "beta")

    def probabilities(self, game: MatrixGame, strategy: np.ndarray, follower_type: int) -> np.ndarray:
        """``(n,)`` the column probabilities of ``follower_type`` against ``strategy``."""
        return self.choice_probabilities(game, follower_values(game, strategy)[follower_type], follower_type)

    def choice_probabilities(self, game: MatrixGame, values: np.ndarray, follower_type) -> np.ndarray:
        """``(..., n)`` the column probabilities from the type's :func:`follower_values` ``values`` ``(..., n)``
        (``follower_type``: an int, or ``(...)`` ints for a batch); one rule for one strategy and a batch."""
        values = values / follower_scales(game)[follower_type][..., None]
        weights = np.exp(self.beta * (values - values.max(axis=-1, keepdims=True)))
        return weights / weights.sum(axis=-1, keepdims=True)

    def respond(self, game: MatrixGame, strategy: np.ndarray, follower_type: int, rng: np.random.Generator) -> int:
        """A column drawn from :meth:`probabilities` with ``rng``."""
        return int(rng.choice(game.n_follower_actions, p=self.probabilities(game, strategy, follower_type)))

    def __repr__(self) -> str:
        return f"QuantalFollower(beta={self.beta:g})"


# ---------------------------------------------------------------------------------------------
# Named instances
# ---------------------------------------------------------------------------------------------

def conitzer_sandholm() -> MatrixGame:
    """Conitzer and Sandholm's example ("Computing the optimal strategy to commit to", EC 2006; von Stengel and
    Zamir's): rows Up/Down, columns Left/Right, payoffs (leader, follower) ``Up: (2, 1) (4, 0); Down: (1, 0) (3, 1)``.
    Up dominates, so the only Nash equilibrium is (Up, Left), worth 2 to the leader; committing to Down earns 3, and
    the mixed commitment ``(1/2, 1/2)`` (the follower indifferent, breaking the tie to Right) earns 3.5."""
    return MatrixGame(leader_payoffs=[[2, 4], [1, 3]], follower_payoffs=[[1, 0], [0, 1]])


def paruchuri_example() -> MatrixGame:
    """The two-action game that introduces DOBSS (Paruchuri et al., "Playing games for security: an efficient exact
    algorithm for solving Bayesian Stackelberg games", AAMAS 2008): ``a: (2, 1) (4, 0); b: (1, 0) (3, 2)``. The Nash
    equilibrium (a, c) gives the leader 2; committing to ``(2/3, 1/3)`` makes the follower indifferent, it plays d,
    and the leader earns 11/3."""
    return MatrixGame(leader_payoffs=[[2, 4], [1, 3]], follower_payoffs=[[1, 0], [0, 2]])


def battle_of_the_sexes() -> MatrixGame:
    """Battle of the sexes (rows and columns Opera/Football): ``Opera: (2, 1) (0, 0); Football: (0, 0) (1, 2)``.
    Three Nash equilibria (leader values 2, 1 and 2/3); the Stackelberg leader commits to Opera and earns 2, the
    uniform commitment only 1/2 (the follower picks Football)."""
    return MatrixGame(leader_payoffs=[[2, 0], [0, 1]], follower_payoffs=[[1, 0], [0, 2]])


def matching_pennies() -> MatrixGame:
    """Matching pennies (zero-sum): the leader wins 1 on a match and loses 1 otherwise. Commitment cannot help in a
    zero-sum game: the Stackelberg value is the minimax value 0, at the uniform strategy."""
    leader = np.array([[1.0, -1.0], [-1.0, 1.0]])
    return MatrixGame(leader_payoffs=leader, follower_payoffs=-leader)


def _security_payoffs(values, covered_penalties, uncovered_gains) -> tuple[np.ndarray, np.ndarray]:
    """Leader and follower payoffs ``(K, t, t)`` of a one-resource security game over ``t`` targets (rows: the
    covered target; columns: the attacked one). The defender earns the attacked target's ``values[k, j]`` when it
    covers it and 0 otherwise; attacker type ``k`` earns ``uncovered_gains[k, j]`` on an uncovered target and
    ``-covered_penalties[k, j]`` on a covered one."""
    covered = np.eye(values.shape[1], dtype=bool)[None]
    leader = np.where(covered, values[:, None, :], 0.0)
    follower = np.where(covered, -covered_penalties[:, None, :], uncovered_gains[:, None, :])
    return leader, follower


def security_game() -> MatrixGame:
    """A Bayesian security game in the form DOBSS solves (Paruchuri et al., AAMAS 2008): one defender resource covers
    one of three targets (rows), an attacker of one of two types attacks one (columns). The defender earns the
    attacked target's value (6, 1, 6) when it covers it and 0 otherwise. Type 0 (prior 0.6) gains (1, 7, 1) on an
    uncovered target and loses 2 on a covered one; type 1 (prior 0.4) gains (3, 6, 4) and loses 3.

    The envs' default instance. The optimum covers the targets with ``(11, 25, 17) / 53``: type 0 attacks target 1,
    type 1 is left indifferent between all three and attacks target 2 (the tie goes to the defender), worth
    ``279/265`` (about 1.053). Uniform coverage earns 1/3, any pure coverage 0 (both types attack an uncovered target),
    and the game's only Nash equilibrium 0.75.
    """
    values = np.array([[6.0, 1.0, 6.0], [6.0, 1.0, 6.0]])
    leader, follower = _security_payoffs(values, np.array([[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]),
                                         np.array([[1.0, 7.0, 1.0], [3.0, 6.0, 4.0]]))
    return MatrixGame(leader_payoffs=leader, follower_payoffs=follower, type_prior=[0.6, 0.4])


def random_matrix_game(rng: np.random.Generator, n_leader_actions: int = 3, n_follower_actions: int = 3,
                       n_types: int = 1) -> MatrixGame:
    """Payoffs drawn uniformly from ``[0, 1]`` (both players, every type); a Dirichlet(1) type prior when ``n_types > 1``."""
    m, n, k = (as_positive_int(n_leader_actions, "n_leader_actions"), as_positive_int(n_follower_actions, "n_follower_actions"),
               as_positive_int(n_types, "n_types"))
    leader, follower = rng.random((k, m, n)), rng.random((k, m, n))
    return MatrixGame(leader, follower, rng.dirichlet(np.ones(k)) if k > 1 else None)


def random_security_game(rng: np.random.Generator, n_targets: int = 4, n_types: int = 2) -> MatrixGame:
    """A random one-resource security game (:func:`security_game`'s form): target values, attacker gains and
    penalties uniform in ``[1, 10]``, a Dirichlet(1) type prior."""
    t, k = as_positive_int(n_targets, "n_targets"), as_positive_int(n_types, "n_types")
    values = np.repeat(rng.uniform(1.0, 10.0, (1, t)), k, axis=0)
    leader, follower = _security_payoffs(values, rng.uniform(1.0, 10.0, (k, t)), rng.uniform(1.0, 10.0, (k, t)))
    return MatrixGame(leader, follower, rng.dirichlet(np.ones(k)) if k > 1 else None)
