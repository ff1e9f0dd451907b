"""The stateful principal–agent game (multi-round strategic regression), as plain numpy.

Model (see ``shared/docs/model-stateful.md``; Harris, Heidari, Wu, "Stateful Strategic Regression",
NeurIPS 2021). Rounds ``t = 1..T`` (0-based ``t = 0..T-1`` in arrays):

* effort ``e_t`` in ``E_B = {e >= 0, sum(e) <= B}`` (shape ``(d,)``);
* state ``s_{t+1} = p * s_t + omega * e_t`` (shape ``(d,)``), ``s_1`` given;
* observable features ``o_t = g(W (s_t + e_t))`` (shape ``(n,)``);
* score ``y_t = theta_t . o_t`` with ``theta_t`` on the probability simplex (monotone, normalized rules);
* agent utility ``U_A = sum_t gamma^(t-1) y_t``; principal utility ``U_P = sum_t lambda . e_t``.

Tie-breaking (strong Stackelberg): whenever the agent is indifferent between options, it takes the one
the principal values most (largest ``lambda_j``); remaining ties go to the lowest effort index, and
"no effort" counts as the last option. Marginal values within ``tie_tol`` (default ``TIE_TOL``) times the round's
scale (:func:`round_scales`) of the maximum are ties: the one meaning of a tie in :mod:`stratgym.games.ties`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import linprog, minimize

from stratgym.games.validation import (as_float_array, as_nonnegative_float, as_positive_int, as_real_array,
                                        check_range)
from stratgym.games.linalg import matmul_rows
from stratgym.games.ties import TIE_TOL

#: Agent response models of this game: full-horizon best response, current round only, and
#: re-planning each round as if the current rule stayed in force.
RESPONSE_MODELS = ("rational", "myopic", "forecasting")

#: Default duality-gap tolerance (in utility units) of the concave best response.
GAP_TOL = 1e-7


def _sqrt_slope(z: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(z > 0, 0.5 / np.sqrt(np.maximum(z, 1e-300)), np.inf)


#: Conversion shapes g and their derivatives g' (elementwise, non-decreasing, concave).
CONVERSIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "linear": (lambda z: z, np.ones_like),
    "sqrt": (np.sqrt, _sqrt_slope),
    "log1p": (np.log1p, lambda z: 1.0 / (1.0 + z)),
}


@dataclass(frozen=True, eq=False)
class StatefulGame:
    """Parameters of the stateful game, validated at construction (``ValueError`` naming the field).

    Attributes:
        conversion_matrix: ``W``, shape ``(n, d)``, ``>= 0``: feature gain per unit of each effort type.
        retention: ``omega``, shape ``(d,)``, in ``[0, 1]``: share of effort that rolls into the state.
        persistence: ``p``, shape ``(d,)``, in ``[0, 1]``: share of the state kept per round (1 = no forgetting).
        initial_state: ``s_1``, shape ``(d,)``, ``>= 0``.
        budget: ``B > 0``, effort per round.
        effort_value: ``lambda``, shape ``(d,)``: the principal's value of one unit of each effort type.
        horizon: ``T >= 1`` rounds.
        discount: ``gamma`` in ``(0, 1]``, the agent's discount.
        conversion: shape of ``g``: one of ``CONVERSIONS`` (``"linear"``, ``"sqrt"``, ``"log1p"``).
        effort_names, feature_names: labels, lengths ``d`` and ``n`` (defaults ``effort0..``, ``feature0..``).
    """

    conversion_matrix: np.ndarray
    retention: np.ndarray
    persistence: np.ndarray | None = None
    initial_state: np.ndarray | None = None
    budget: float = 1.0
    effort_value: np.ndarray | None = None
    horizon: int = 5
    discount: float = 1.0
    conversion: str = "linear"
    effort_names: tuple[str, ...] | None = None
    feature_names: tuple[str, ...] | None = None

    def __post_init__(self):
        set_ = lambda field, value: object.__setattr__(self, field, value)  # noqa: E731 (frozen dataclass)
        W = as_real_array(self.conversion_matrix, "conversion_matrix (W)", ndim=2)
        n, d = W.shape
        if n < 1 or d < 1:
            raise ValueError(f"conversion_matrix (W) must be (n, d) with n, d >= 1, got shape {W.shape}")
        check_range(W, "conversion_matrix (W)", low=0.0)
        set_("conversion_matrix", W)
        for field, default, low, high in (("retention", None, 0.0, 1.0), ("persistence", 1.0, 0.0, 1.0),
                                          ("initial_state", 0.0, 0.0, None), ("effort_value", None, None, None)):
            value = getattr(self, field)
            if value is None:
                if default is None:
                    raise ValueError(f"{field} is required: a length-{d} array")
                value = np.full(d, default)
            array = as_real_array(value, field, shape=(d,))
            check_range(array, field, low=low, high=high)
            set_(field, array)
        budget = as_real_array(self.budget, "budget", shape=())
        check_range(budget, "budget", low=0.0, low_open=True)
        set_("budget", float(budget))
        set_("horizon", as_positive_int(self.horizon, "horizon (T)"))
        discount = as_real_array(self.discount, "discount (gamma)", shape=())
        check_range(discount, "discount (gamma)", low=0.0, high=1.0, low_open=True)
        set_("discount", float(discount))
        if not isinstance(self.conversion, str) or self.conversion not in CONVERSIONS:
            raise ValueError(f"conversion must be one of {sorted(CONVERSIONS)}, got {self.conversion!r}")
        for field, length, prefix in (("effort_names", d, "effort"), ("feature_names", n, "feature")):
            names = getattr(self, field)
            set_(field, tuple(f"{prefix}{i}" for i in range(length)) if names is None
                 else _as_names(names, field, length))

    @property
    def n_features(self) -> int:
        """``n``, the number of observable features."""
        return self.conversion_matrix.shape[0]

    @property
    def n_efforts(self) -> int:
        """``d``, the number of effort types."""
        return self.conversion_matrix.shape[1]

    @property
    def is_linear(self) -> bool:
        """Whether ``g`` is the identity (the case with closed-form responses and an exact MILP)."""
        return self.conversion == "linear"

    def replace(self, **changes) -> "StatefulGame":
        """A copy with some fields changed (validated again).

        If ``conversion_matrix`` changes shape and no new names are given, the labels go back to the defaults.
        """
        try:
            shape = np.shape(changes.get("conversion_matrix", self.conversion_matrix))
        except ValueError:  # ragged: the validation rejects it, with its message
            shape = ()
        if len(shape) == 2:  # any other shape is rejected by the validation, with its message
            if shape[0] != self.n_features:
                changes.setdefault("feature_names", None)
            if shape[1] != self.n_efforts:
                changes.setdefault("effort_names", None)
        return dataclasses.replace(self, **changes)

    def __eq__(self, other) -> bool:
        if not isinstance(other, StatefulGame):
            return NotImplemented
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self))

    __hash__ = None


def _as_names(names, field: str, length: int) -> tuple[str, ...]:
    """``names`` as a tuple of ``length`` strings; ``ValueError`` naming ``field`` otherwise (a single string is
    one name, not a sequence of letters)."""
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise ValueError(f"{field} must be a sequence of {length} strings, got {names!r}")
    names = tuple(names)
    if len(names) != length or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{field} must be a sequence of {length} strings, got {names!r}")
    return names


# ---------------------------------------------------------------------------------------------
# Policies and dynamics
# ---------------------------------------------------------------------------------------------

def uniform_rule(game: StatefulGame) -> np.ndarray:
    """The uniform assessment policy, shape ``(T, n)``."""
    return np.full((game.horizon, game.n_features), 1.0 / game.n_features)


def check_assessment_policy(game: StatefulGame, theta, name: str = "theta", atol: float = 1e-6,
                            batch: bool = True) -> np.ndarray:
    """Validate rules ``theta`` of shape ``(..., T, n)`` (``batch=False``: exactly ``(T, n)``): finite, ``>= 0``,
    each row summing to 1 (within ``atol``)."""
    return _on_simplex_rows(_with_trailing_shape(theta, (game.horizon, game.n_features), name, "(..., T, n)", batch),
                            name, atol)


def _on_simplex_rows(array: np.ndarray, name: str, atol: float = 1e-6) -> np.ndarray:
    """``array`` if its last axis lies on the probability simplex (within ``atol``), else ``ValueError`` naming ``name``."""
    # One pass on the hot path; comparisons with NaN are False, so non-finite input fails it too. The reductions'
    # ``initial`` values let an empty batch pass (numpy has no min of nothing); NaN still propagates.
    if not (array.min(initial=0.0) >= -atol and np.abs(array.sum(axis=-1) - 1.0).max(initial=0.0) <= atol):
        _reject_non_finite(array, name)
        raise ValueError(f"{name} rows must lie on the probability simplex (>= 0, summing to 1)")
    return array


def check_effort_policy(game: StatefulGame, effort, name: str = "effort", atol: float = 1e-6,
                        batch: bool = True) -> np.ndarray:
    """Validate efforts of shape ``(..., T, d)`` (``batch=False``: exactly ``(T, d)``): finite, ``>= 0``, each
    round's total at most the budget."""
    effort = _with_trailing_shape(effort, (game.horizon, game.n_efforts), name, "(..., T, d)", batch)
    if not (effort.min(initial=0.0) >= -atol and effort.sum(axis=-1).max(initial=0.0) <= game.budget + atol):
        _reject_non_finite(effort, name)
        raise ValueError(f"{name} rows must be >= 0 and sum to at most the budget B={game.budget}")
    return effort


def _with_trailing_shape(value, trailing: tuple, name: str, form: str, batch: bool = True) -> np.ndarray:
    """``value`` as a float64 array of shape ``(..., *trailing)`` (``batch=False``: exactly ``trailing``)."""
    array = as_float_array(value, name)
    if array.ndim < len(trailing) or array.shape[-len(trailing):] != trailing or (not batch and array.shape != trailing):
        sizes = ", ".join(map(str, trailing))
        if batch:
            raise ValueError(f"{name} must have shape {form} = (..., {sizes}), got {array.shape}")
        single = form.replace("..., ", "").replace(")", ",)" if len(trailing) == 1 else ")")
        raise ValueError(f"{name} must have shape {single} = {tuple(trailing)}, got {array.shape}")
    return array


def _reject_non_finite(array: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")


@dataclass(frozen=True)
class Trajectory:
    """A played game. Leading batch axes ``...`` follow the policies given to :func:`rollout`.

    Attributes:
        states: ``(..., T + 1, d)``: ``s_1 .. s_{T+1}``.
        features: ``(..., T, n)``: ``o_t``.
        scores: ``(..., T)``: ``y_t``.
        agent_utility: ``(...)``: ``sum_t gamma^(t-1) y_t``.
        principal_utility: ``(...)``: ``sum_t lambda . e_t``.
    """

    states: np.ndarray
    features: np.ndarray
    scores: np.ndarray
    agent_utility: np.ndarray
    principal_utility: np.ndarray


def next_state(game: StatefulGame, state: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """``s_{t+1} = p * s_t + omega * e_t``; shapes ``(..., d)``."""
    return game.persistence * state + game.retention * effort


def observe(game: StatefulGame, state: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """Observable features ``g(W (s_t + e_t))``, shape ``(..., n)``."""
    latent = state + effort
    latent = latent @ game.conversion_matrix.T if latent.ndim == 1 else matmul_rows(latent, game.conversion_matrix.T)
    return CONVERSIONS[game.conversion][0](latent)


def rollout(game: StatefulGame, theta, effort, initial_state=None) -> Trajectory:
    """Play assessment policy ``theta`` ``(..., T, n)`` against effort policy ``effort`` ``(..., T, d)``.

    Leading batch axes broadcast against each other (an empty batch gives empty results). ``initial_state``
    ``(..., d)`` overrides ``s_1``. ``ValueError`` naming the argument for bad input.
    """
    return _play(game, *_checked_policies(game, theta, effort, initial_state))


def _checked_policies(game: StatefulGame, theta, effort, initial_state, need_effort: bool = True) -> tuple:
    """``(theta (..., T, n), effort (..., T, d) or None, initial_state (..., d) or None)`` checked, including that their
    batch axes broadcast; ``effort`` may be ``None`` only if not ``need_effort``. ``ValueError`` naming the argument."""
    theta = check_assessment_policy(game, theta)
    if effort is not None or need_effort:
        effort = check_effort_policy(game, effort)
    if initial_state is not None:
        initial_state = check_state(game, initial_state, "initial_state")
    batches = {"theta": theta.shape[:-2], "effort": () if effort is None else effort.shape[:-2],
               "initial_state": () if initial_state is None else initial_state.shape[:-1]}
    try:
        if any(batches.values()):  # single policies (the common case) skip numpy's slow shape check
            np.broadcast_shapes(*batches.values())
    except ValueError:
        shapes = ", ".join(f"{name} {shape}" for name, shape in batches.items())
        raise ValueError(f"the batch shapes (leading axes) of {shapes} do not broadcast against each other") from None
    return theta, effort, initial_state


def _derived(game: StatefulGame, build: Callable[[StatefulGame], object]):
    """``build(game)``, computed once and cached on the (immutable) game: a derived value, not a field."""
    cached = game.__dict__.get(build.__name__)
    if cached is None:
        cached = game.__dict__[build.__name__] = build(game)
    return cached


def _play(game: StatefulGame, theta: np.ndarray, effort: np.ndarray, initial_state=None) -> Trajectory:
    """:func:`rollout` of checked policies."""
    return Trajectory(*rollout_arrays(game, theta, effort, initial_state))


def rollout_arrays(game: StatefulGame, theta: np.ndarray, effort: np.ndarray, initial_state=None) -> tuple:
    """:func:`rollout` of policies already checked (or valid by construction, as an env's), without the checks:
    ``(states, features, scores, agent_utility, principal_utility)`` as :class:`Trajectory`'s fields (envs read them
    without building the dataclass). Leading batch axes as in :func:`rollout`.

    Everything but ``g`` and the scores is linear in the effort and the initial state, so one product with
    the game's cached rollout map replaces the round-by-round loop.
    """
    T, n, d = game.horizon, game.n_features, game.n_efforts
    effect, start, default_start, values, discounts, ones = _derived(game, _rollout_map)
    if theta.ndim != 2 or effort.ndim != 2:  # states and features take the batch of both policies
        effort = np.broadcast_to(effort, np.broadcast_shapes(theta.shape[:-2], effort.shape[:-2]) + (T, d))
    flat = effort.reshape(effort.shape[:-2] + (T * d,))
    # ndarray.dot: the product of @ at a third of its call overhead (on a batch, @ is the faster one).
    linear = effect.dot(flat) if flat.ndim == 1 else matmul_rows(flat, effect.T)
    if initial_state is None:
        linear += default_start
    else:
        linear = linear + np.asarray(initial_state, dtype=np.float64) @ start.T
    batch = linear.shape[:-1]
    features = CONVERSIONS[game.conversion][0](linear[..., (T + 1) * d:].reshape(batch + (T, n)))
    if flat.ndim == 1:
        scores = (theta * features).dot(ones)  # row sums: a third of np.sum's call overhead
        return (linear[:(T + 1) * d].reshape(T + 1, d), features, scores, scores.dot(discounts), flat.dot(values))
    scores = matmul_rows(theta * features, ones)
    return (linear[..., :(T + 1) * d].reshape(batch + (T + 1, d)), features, scores, matmul_rows(scores, discounts),
            matmul_rows(flat, values))


def _rollout_map(game: StatefulGame) -> tuple[np.ndarray, ...]:
    """What :func:`rollout_arrays` needs of the game (cache it with :func:`_derived`): ``(E, S, S s_1, l, g, 1)``.

    ``E`` ``((T + 1) d + T n, T d)`` and ``S`` ``((T + 1) d + T n, d)`` map the flat effort policy and the
    initial state to the states ``s_1 .. s_{T+1}`` followed by the latent features ``W (s_t + e_t)``
    (:func:`accumulated_effort`'s kernel, with ``W`` applied); ``l`` ``(T d,)`` is ``lambda`` per round,
    ``g`` ``(T,)`` the discounts and ``1`` ``(n,)`` ones. Memory ``O(T^2 d (d + n))``.
    """
    T, n, d = game.horizon, game.n_features, game.n_efforts
    W = game.conversion_matrix
    to_state, decay = _state_kernel(game)
    to_stock = _transfer_kernel(game)[0]
    identity = np.eye(d)
    effect = np.concatenate([np.einsum("tuj,jk->tjuk", to_state, identity).reshape((T + 1) * d, T * d),
                             np.einsum("ij,tuj->tiuj", W, to_stock).reshape(T * n, T * d)])
    start = np.concatenate([np.einsum("tj,jk->tjk", decay, identity).reshape((T + 1) * d, d),
                            np.einsum("ij,tj->tij", W, decay[:T]).reshape(T * n, d)])
    arrays = (effect, start, start @ game.initial_state, np.tile(game.effort_value, T), _discounts(game), np.ones(n))
    for array in arrays:
        array.setflags(write=False)
    return arrays


def accumulated_effort(game: StatefulGame, effort: np.ndarray, initial_state=None) -> np.ndarray:
    """``s_t + e_t`` for every round, shape ``(..., T, d)``: what the features convert.

    The state is linear in past effort, ``s_t = p^(t-1) s_1 + sum_{u<t} omega p^(t-1-u) e_u``, so one
    contraction with a per-game kernel replaces the round-by-round loop.
    """
    transfer, decay = _derived(game, _transfer_kernel)
    state = game.initial_state if initial_state is None else np.asarray(initial_state, dtype=np.float64)
    return np.einsum("tuj,...uj->...tj", transfer, effort) + decay * state[..., None, :]


def _state_kernel(game: StatefulGame) -> tuple[np.ndarray, np.ndarray]:
    """``(S, P)`` with ``s_t = P[t] s_1 + sum_u S[t, u] e_u`` (0-based ``t = 0..T``): ``S[t, u] = omega p^(t-1-u)``
    if ``u < t``, else 0 (shape ``(T + 1, T, d)``), and ``P[t] = p^t`` (shape ``(T + 1, d)``)."""
    T = game.horizon
    lags = np.arange(T + 1)[:, None] - np.arange(T)[None, :] - 1  # t - 1 - u
    powers = game.persistence ** np.maximum(lags, 0)[..., None]
    return np.where((lags >= 0)[..., None], game.retention * powers, 0.0), game.persistence ** np.arange(T + 1)[:, None]


def _transfer_kernel(game: StatefulGame) -> tuple[np.ndarray, np.ndarray]:
    """``(K, P)`` with ``K[t, u] = 1`` if ``u = t``, ``omega p^(t-1-u)`` if ``u < t``, else 0 (shape ``(T, T, d)``),
    and ``P[t] = p^t`` (shape ``(T, d)``) (cache it with :func:`_derived`)."""
    T = game.horizon
    to_state, decay = _state_kernel(game)
    return to_state[:T] + np.eye(T)[..., None], decay[:T]


def _discounts(game: StatefulGame) -> np.ndarray:
    """``gamma^(t-1)`` for ``t = 1..T``, shape ``(T,)``."""
    return game.discount ** np.arange(game.horizon)


# ---------------------------------------------------------------------------------------------
# Marginal values (fact 1 of the model): the agent's utility gradient in the effort policy
# ---------------------------------------------------------------------------------------------

def _carry_forward(game: StatefulGame, per_round: np.ndarray) -> np.ndarray:
    """``c_tau = v_tau + omega * sum_{t > tau} p^(t-1-tau) v_t`` for ``v`` of shape ``(..., T, d)``, by suffix sums."""
    out = np.empty_like(per_round)
    later = np.zeros(per_round.shape[:-2] + per_round.shape[-1:])
    times = np.multiply if np.isfinite(per_round).all() else _times  # only sqrt's slope at 0 needs 0 * inf = 0
    for tau in range(game.horizon - 1, -1, -1):
        out[..., tau, :] = per_round[..., tau, :] + times(game.retention, later)
        later = per_round[..., tau, :] + times(game.persistence, later)
    return out


def _times(factor: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``factor * values`` with ``0 * inf = 0``: sqrt's slope is infinite at 0, but a zero factor (no
    retention, no persistence, no weight, no conversion) means that slope never reaches the agent."""
    with np.errstate(invalid="ignore"):
        return np.where(factor > 0, factor * values, 0.0)


def feature_slopes(game: StatefulGame, effort, initial_state=None) -> np.ndarray:
    """``g'(W (s_t + e_t))`` for every round, shape ``(..., T, n)`` (all ones for linear ``g``; may be inf for sqrt at 0)."""
    effort = np.asarray(effort, dtype=np.float64)
    if game.is_linear:
        return np.ones(effort.shape[:-1] + (game.n_features,))
    return CONVERSIONS[game.conversion][1](accumulated_effort(game, effort, initial_state) @ game.conversion_matrix.T)


def marginal_values(game: StatefulGame, theta, effort=None, initial_state=None) -> np.ndarray:
    """The agent's marginal utility of effort, shape ``(..., T, d)``: ``dU_A / de_tau``.

    For linear ``g`` this is ``c_tau(theta) = gamma^(tau-1) W^T theta_tau + sum_{t>tau} gamma^(t-1)
    (omega * p^(t-1-tau)) * W^T theta_t`` and ``effort`` is not needed; for concave ``g`` it is the
    gradient at ``effort`` (required). Leading batch axes of ``theta``, ``effort`` and ``initial_state`` ``(..., d)``
    broadcast. Cost ``O(T n d)``. ``ValueError`` naming the argument for bad input.
    """
    if effort is None and not game.is_linear:
        raise ValueError(f"effort is required with concave g (conversion={game.conversion!r}): the gradient depends "
                         "on where it is taken")
    return _marginal_values(game, *_checked_policies(game, theta, effort, initial_state, need_effort=False))


def _marginal_values(game: StatefulGame, theta: np.ndarray, effort: np.ndarray | None = None,
                     initial_state=None) -> np.ndarray:
    """:func:`marginal_values` without checks: :func:`marginal_value_operator` feeds it basis vectors (not rules) and
    the concave solver its iterates (nudged off 0, possibly a hair over the budget)."""
    discounts = _discounts(game)
    if game.is_linear:
        return _carry_forward(game, discounts[:, None] * (theta @ game.conversion_matrix))
    weights = _times(theta, feature_slopes(game, effort, initial_state))
    per_round = _times(game.conversion_matrix, weights[..., None]).sum(axis=-2)
    return _carry_forward(game, discounts[:, None] * per_round)


def marginal_value_operator(game: StatefulGame, slopes: np.ndarray | None = None) -> np.ndarray:
    """The linear map ``theta -> marginal values``, shape ``(T, d, T, n)``: ``c[tau, j] = sum_{t,i} A[tau, j, t, i] theta[t, i]``.

    ``slopes`` ``(T, n)`` are the feature slopes ``g'`` at a fixed effort policy (KKT gradient of a
    concave game): ``A[tau, j, t, i]`` is the linear-``g`` entry times ``slopes[t, i]``. ``None`` means
    linear ``g``. An infinite slope gives infinite entries where feature ``i`` of round ``t`` depends on
    effort ``(tau, j)`` and 0 elsewhere (``0 * inf = 0``); what to do with them is the caller's choice.
    """
    T, n, d = game.horizon, game.n_features, game.n_efforts
    basis = np.eye(T * n).reshape(T * n, T, n)
    linear = np.moveaxis(_marginal_values(game.replace(conversion="linear"), basis), 0, -1).reshape(T, d, T, n)
    return linear if slopes is None else _times(linear, np.asarray(slopes, dtype=np.float64))


# ---------------------------------------------------------------------------------------------
# Agent responses
# ---------------------------------------------------------------------------------------------

def favoured_option(game: StatefulGame, values: np.ndarray, scale, tie_tol: float = TIE_TOL) -> np.ndarray:
    """Best vertex of the budget set for linear marginal ``values`` ``(..., d)``, ties to the principal.

    Options are "all budget on type j" (worth ``B * values[j]``) and "no effort" (worth 0). Among options
    within ``tie_tol * max(scale, best)`` of the best, the principal's favourite (largest ``lambda_j``,
    0 for no effort) wins; then the lowest effort index, with no effort last. ``scale`` (a number, or an
    array broadcasting against ``values[..., 0]``) is the unit of the tie tolerance: the round's
    :func:`round_scales` entry. Returns efforts ``(..., d)``: :func:`favoured_choice` as budget vertices.
    """
    return _derived(game, _budget_vertices).take(favoured_choice(game, values, scale, tie_tol), axis=0)


def favoured_choice(game: StatefulGame, values: np.ndarray, scale, tie_tol: float = TIE_TOL) -> np.ndarray:
    """:func:`favoured_option` as indices ``(...)``: the effort type that gets the budget, ``-1`` for no effort.

    One vector is decided in plain Python (:func:`_favoured_choices`, the envs' scalar hot path); a batch by numpy,
    one pass per effort type over the whole batch from the principal's favourite down (reductions over a short
    last axis cost numpy far more than that). Both are the same rule, tested equal bit for bit.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        listed = values.tolist()
        total = sum(listed)  # NaN if an entry is (or both infinities are): then nothing is tied, as in the batched rule
        return _favoured_choices(game, [listed], tie_tol, [float(scale)])[0] if total == total else -1
    order = _derived(game, _preference_order)[1]
    best = values[..., 0]
    for j in range(1, values.shape[-1]):
        best = np.maximum(best, values[..., j])  # NaN propagates: then nothing is tied
    best = np.maximum(best, 0.0)  # "no effort" is worth 0
    threshold = best - tie_tol * np.maximum(scale, best)
    choice = np.full(threshold.shape, -1, dtype=np.int64)
    for j in reversed(order):  # the principal's favourite last, so the first tied type in her order wins
        choice = np.where(values[..., j] >= threshold, j, choice)
    # "No effort" (principal value 0, ranked last) wins when it is tied and strictly preferred.
    preferred_nothing = (0.0 >= threshold) & (_derived(game, _favour_with_nothing).take(choice) < 0.0)
    return np.where(preferred_nothing, -1, choice)


def _favoured_choices(game: StatefulGame, rows: list[list[float]], tie_tol: float, scales: list[float]) -> list[int]:
    """:func:`favoured_option`'s choice for each row of values (lists without NaN), each with its tie ``scale``, in
    plain Python: the effort index that gets the budget, or -1 for no effort. Envs and the linear best response call
    it every step, where numpy's per-call overhead on length-``d`` rows dominated (tested equal to the batched rule)."""
    favour, order = _derived(game, _preference_order)
    choices = []
    for listed, scale in zip(rows, scales):
        best = max(listed)
        best = best if best > 0.0 else 0.0  # "no effort" is worth 0
        threshold = best - tie_tol * (best if best > scale else scale)
        choice = -1
        for j in order:
            if listed[j] >= threshold:
                choice = j
                break
        # "No effort" (principal value 0, ranked last) wins when it is tied and strictly preferred.
        choices.append(-1 if choice >= 0 and 0.0 >= threshold and favour[choice] < 0.0 else choice)
    return choices


def largest_marginal_values(game: StatefulGame, model: str = "rational") -> np.ndarray:
    """The largest marginal value that any assessment policy can give an effort type in each round, shape ``(T,)``,
    under ``model`` (of the linearized game for concave ``g``).

    ``rational``: ``max_j sum_t gamma^(t-1) K_j(tau, t) max_i W_ij`` with ``K`` the carry-over of
    :func:`marginal_values` (put all weight on the feature type ``j`` feeds most, every round); ``myopic`` /
    ``forecasting``: ``max_j h_tau_j max_i W_ij`` with ``h`` from :func:`per_round_weights`.
    """
    if model not in RESPONSE_MODELS:
        raise ValueError(f"model must be one of {RESPONSE_MODELS}, got {model!r}")
    column_max = game.conversion_matrix.max(axis=0)
    if model == "rational":
        return _carry_forward(game, _discounts(game)[:, None] * column_max).max(axis=1)
    return (per_round_weights(game, model) * column_max).max(axis=1)


def round_scales(game: StatefulGame, model: str = "rational") -> np.ndarray:
    """The unit of the agent's ties in each round, shape ``(T,)``: :func:`largest_marginal_values`, or 1 in a round
    where no rule gives any effort a value. Cached on the game.

    Why: marginal values carry ``gamma^(tau-1)`` and the scale of ``W``, so an absolute tolerance would turn the
    strict preferences of late discounted rounds, or of a game with a small ``W``, into ties. Ties are relative to
    this scale instead, which depends on the game only, so the exact solvers share it: they normalize each
    round's rows by it.
    """
    if model not in RESPONSE_MODELS:
        raise ValueError(f"model must be one of {RESPONSE_MODELS}, got {model!r}")
    return _derived(game, _response_tables)[model][1]


def _response_tables(game: StatefulGame) -> dict[str, tuple]:
    """model -> ``(per-round weights (T, d) or None, round_scales (T,), the same scales as a list)``, for every
    response model (cache it with :func:`_derived`: the linear responses read it every step)."""
    tables = {}
    for model in RESPONSE_MODELS:
        weights = None if model == "rational" else per_round_weights(game, model)
        largest = largest_marginal_values(game, model)
        scales = np.where(largest > 0.0, largest, 1.0)
        for array in (weights, scales):
            if array is not None:
                array.setflags(write=False)
        tables[model] = (weights, scales, scales.tolist())
    return tables


def _preference_order(game: StatefulGame) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """``lambda`` as a tuple, and the effort types from the principal's favourite down (ties: lowest index first)."""
    favour = tuple(game.effort_value.tolist())
    return favour, tuple(sorted(range(game.n_efforts), key=lambda j: (-favour[j], j)))


def _favour_with_nothing(game: StatefulGame) -> np.ndarray:
    """``lambda`` followed by 0 (no effort), so that index ``-1`` of a choice reads the value of no effort."""
    favour = np.append(game.effort_value, 0.0)
    favour.setflags(write=False)
    return favour


def _budget_vertices(game: StatefulGame) -> np.ndarray:
    """``(d + 1, d)``: the effort "all budget on type j" in row ``j``, then no effort, so row ``-1`` is no effort
    and ``take`` turns :func:`_favoured_choices` into efforts (cache it with :func:`_derived`)."""
    vertices = np.vstack([np.eye(game.n_efforts) * game.budget, np.zeros(game.n_efforts)])
    vertices.setflags(write=False)
    return vertices


@dataclass(frozen=True)
class Response:
    """An agent's response to an assessment policy.

    Attributes:
        effort: ``(T, d)`` effort policy.
        duality_gap: certified bound on the agent's lost utility (0 for the linear closed form).
    """

    effort: np.ndarray
    duality_gap: float = 0.0


def best_response(game: StatefulGame, theta, model: str = "rational", tie_tol: float = TIE_TOL,
                  gap_tol: float = GAP_TOL, initial_state=None) -> Response:
    """The agent's response to assessment policy ``theta`` ``(T, n)`` under a response ``model``.

    * ``rational``: full-horizon best response. Linear ``g``: per round, the budget on the principal's
      favourite argmax of ``c_tau(theta)`` (``favoured_option``; values within ``tie_tol`` times the round's
      :func:`round_scales` entry are ties). Concave ``g``: the concave program solved to duality gap
      ``gap_tol`` (SLSQP, then Frank–Wolfe until its gap certificate is small enough); among the efforts as
      good for the agent as that solution, the principal's favourite (:func:`_principal_favourite`).
    * ``myopic``: each round maximizes that round's score only.
    * ``forecasting``: each round re-plans the rest of the horizon as if the current rule stayed in force,
      and plays the first round of that plan.

    ``initial_state`` ``(d,)`` overrides ``s_1``. ``ValueError`` for invalid arguments.
    """
    theta = check_assessment_policy(game, theta, batch=False)
    if model not in RESPONSE_MODELS:
        raise ValueError(f"model must be one of {RESPONSE_MODELS}, got {model!r}")
    tie_tol, gap_tol = _check_tolerances(tie_tol, gap_tol)
    state = game.initial_state if initial_state is None else check_state(game, initial_state, "initial_state",
                                                                        batch=False)
    if model == "rational":
        if game.is_linear:
            return Response(linear_rational_effort(game, theta, tie_tol))
        return _concave_best_response(game, theta, state, gap_tol)
    efforts, gap = [], 0.0
    for t in range(game.horizon):
        response = _respond_in_round(game, model, theta[t], state, t, tie_tol, gap_tol)
        efforts.append(response.effort[0])
        gap += response.duality_gap
        state = next_state(game, state, efforts[-1])
    return Response(np.array(efforts), gap)


def _check_tolerances(tie_tol, gap_tol) -> tuple[float, float]:
    # gap_tol > 0: a duality gap of exactly 0 is not reachable in floating point.
    return as_nonnegative_float(tie_tol, "tie_tol"), as_nonnegative_float(gap_tol, "gap_tol", positive=True)


def check_state(game: StatefulGame, state, name: str = "state", batch: bool = True) -> np.ndarray:
    """Validate agent states ``(..., d)`` (``batch=False``: exactly ``(d,)``): finite and ``>= 0``."""
    state = _with_trailing_shape(state, (game.n_efforts,), name, "(..., d)", batch)
    if not state.min(initial=0.0) >= 0.0:
        _reject_non_finite(state, name)
        raise ValueError(f"{name} must be >= 0, got {state}")
    return state


def linear_rational_effort(game: StatefulGame, theta: np.ndarray, tie_tol: float = TIE_TOL) -> np.ndarray:
    """The rational agent's best response ``(T, d)`` to a ``theta`` ``(T, n)`` of a linear game, without argument checks
    (envs' hot path; :func:`best_response` is the checked entry): per round the budget on the favoured argmax of
    ``c_tau(theta)``, with ``c`` from the game's cached operator."""
    T, d = game.horizon, game.n_efforts
    values = _derived(game, _marginal_value_matrix).dot(theta.ravel()).reshape(T, d)
    scales = _derived(game, _response_tables)["rational"][2]
    return _derived(game, _budget_vertices).take(_favoured_choices(game, values.tolist(), tie_tol, scales), axis=0)


def _marginal_value_matrix(game: StatefulGame) -> np.ndarray:
    """:func:`marginal_value_operator` (linear ``g``) as a ``(T d, T n)`` matrix (cache it with :func:`_derived`)."""
    T, n, d = game.horizon, game.n_features, game.n_efforts
    matrix = marginal_value_operator(game).reshape(T * d, T * n)
    matrix.setflags(write=False)
    return matrix


def respond_in_round(game: StatefulGame, model: str, rule, state, round_index: int,
                     tie_tol: float = TIE_TOL, gap_tol: float = GAP_TOL) -> Response:
    """One round of a ``myopic`` or ``forecasting`` agent facing ``rule`` ``(n,)`` in state ``state`` ``(d,)``.

    ``round_index`` is 0-based. The returned ``effort`` has shape ``(1, d)``: this round's effort. The
    agent's plan is a sub-game starting in ``state``; discounting from round ``round_index`` on is
    rescaled to start at 1, which leaves the argmax unchanged. Linear ``g``: :func:`per_round_response`.
    """
    if model not in ("myopic", "forecasting"):
        raise ValueError(f"model must be 'myopic' or 'forecasting' for a per-round response, got {model!r}")
    if isinstance(round_index, (bool, np.bool_)) or not isinstance(round_index, (int, np.integer)) \
            or not 0 <= round_index < game.horizon:
        raise ValueError(f"round_index must be an integer in [0, {game.horizon - 1}], got {round_index!r}")
    rule = _on_simplex_rows(_with_trailing_shape(rule, (game.n_features,), "rule", "(..., n)", batch=False), "rule")
    state = check_state(game, state, batch=False)
    return _respond_in_round(game, model, rule, state, int(round_index), *_check_tolerances(tie_tol, gap_tol))


def _respond_in_round(game: StatefulGame, model: str, rule: np.ndarray, state: np.ndarray, round_index: int,
                      tie_tol: float, gap_tol: float) -> Response:
    """:func:`respond_in_round` of checked arguments."""
    if game.is_linear:
        return Response(per_round_response(game, model, rule, round_index, tie_tol)[None, :])
    horizon = 1 if model == "myopic" else game.horizon - round_index
    sub_game = game.replace(horizon=horizon, initial_state=state)
    plan = _concave_best_response(sub_game, np.tile(rule, (horizon, 1)), sub_game.initial_state, gap_tol)
    return Response(plan.effort[:1], plan.duality_gap)


def per_round_response(game: StatefulGame, model: str, rule: np.ndarray, round_index, tie_tol: float = TIE_TOL):
    """The ``myopic`` / ``forecasting`` agent's effort in a linear game, without argument checks (the envs' hot path;
    :func:`respond_in_round` is the checked entry): ``rule`` ``(n,)`` and a round index give ``(d,)``; a batch
    ``rule`` ``(k, n)`` with indices ``(k,)`` gives ``(k, d)``. The state does not matter with linear ``g``."""
    weights, scales, _ = _derived(game, _response_tables)[model]
    rule = np.asarray(rule, dtype=np.float64)
    if rule.ndim == 1:
        return favoured_option(game, rule.dot(game.conversion_matrix) * weights[round_index], scales[round_index],
                               tie_tol)
    round_index = np.asarray(round_index)
    if round_index.size and (round_index == round_index.flat[0]).all():  # a batch in step: one row of the tables
        round_index = int(round_index.flat[0])
    return favoured_option(game, matmul_rows(rule, game.conversion_matrix) * weights[round_index],
                           scales[round_index], tie_tol)


def per_round_weights(game: StatefulGame, model: str) -> np.ndarray:
    """Per-round effort weights ``h`` ``(T, d)`` of a linear game: the agent's marginal value is ``h_t * W^T theta_t``.

    ``myopic``: ``h_t = 1``. ``forecasting`` (the rule of round t assumed in force until T, discounting
    rescaled to start at round t): ``h_t = 1 + omega * sum_{u=1}^{T-1-t} gamma^u p^(u-1)`` (t 0-based,
    ``T - t - 1`` later rounds), i.e. ``c`` of a constant plan over the remaining horizon.
    """
    if model == "myopic":
        return np.ones((game.horizon, game.n_efforts))
    if model != "forecasting":
        raise ValueError(f"model must be 'myopic' or 'forecasting', got {model!r}")
    weights = np.empty((game.horizon, game.n_efforts))
    carried = np.zeros(game.n_efforts)  # sum_{u=1}^{remaining} gamma^u p^(u-1), built from the last round back
    for t in range(game.horizon - 1, -1, -1):
        weights[t] = 1.0 + game.retention * carried
        carried = game.discount * (1.0 + game.persistence * carried)
    return weights


def frank_wolfe_gap(game: StatefulGame, theta, effort, initial_state=None) -> float:
    """Frank–Wolfe certificate ``max_{v in E_B^T} grad . (v - e)``: an upper bound on ``U_A* - U_A(e)`` (concave ``U_A``)
    for one policy pair ``theta`` ``(T, n)``, ``effort`` ``(T, d)``; ``initial_state`` ``(d,)`` overrides ``s_1``."""
    theta = check_assessment_policy(game, theta, batch=False)
    effort = check_effort_policy(game, effort, batch=False)
    state = None if initial_state is None else check_state(game, initial_state, "initial_state", batch=False)
    return _frank_wolfe_gap(game, theta, effort, state)


def _frank_wolfe_gap(game: StatefulGame, theta: np.ndarray, effort: np.ndarray, initial_state=None) -> float:
    """:func:`frank_wolfe_gap` of checked arguments."""
    gradient = _marginal_values(game, theta, effort, initial_state)
    vertex = game.budget * np.maximum(gradient.max(axis=-1), 0.0)
    return float(np.sum(vertex - np.sum(_times(effort, gradient), axis=-1)))


def _concave_best_response(game: StatefulGame, theta: np.ndarray, state: np.ndarray, gap_tol: float) -> Response:
    """The rational agent's best response to a checked ``theta`` ``(T, n)`` from ``state`` ``(d,)`` in a concave game.

    SLSQP on the concave program over ``E_B^T``, then Frank–Wolfe steps (exact line search) until the Frank–Wolfe
    gap, a bound on the agent's lost utility, is at most ``gap_tol`` (a ``RuntimeWarning`` if 10 000 steps do not
    get there); then the principal's favourite among the equally good efforts (:func:`_principal_favourite`).
    Returns the effort ``(T, d)`` and its certified gap (utility units).
    """
    T, d, B = game.horizon, game.n_efforts, game.budget

    def utility(flat):
        return float(_play(game, theta, flat.reshape(T, d).clip(0.0), state).agent_utility)

    def gradient(flat):
        # sqrt's slope is infinite at 0: evaluate just inside the set and cap it, so SLSQP gets finite numbers.
        slopes = _marginal_values(game, theta, flat.reshape(T, d).clip(1e-12), state)
        return np.nan_to_num(slopes, posinf=1e12).ravel()

    start = np.full(T * d, B / (d + 1))
    # SLSQP converges fast on these small smooth programs; the Frank–Wolfe gap then certifies the result.
    result = minimize(lambda x: -utility(x), start, jac=lambda x: -gradient(x), method="SLSQP",
                      bounds=[(0.0, B)] * (T * d),
                      constraints=[{"type": "ineq", "fun": lambda x: B - x.reshape(T, d).sum(axis=1),
                                    "jac": lambda x: -np.kron(np.eye(T), np.ones(d))}],
                      options={"maxiter": 1000, "ftol": 1e-14})
    effort = clip_rows(result.x.reshape(T, d), B, exact=False)
    if not np.all(np.isfinite(effort)):
        effort = start.reshape(T, d)
    gap = _frank_wolfe_gap(game, theta, effort, state)
    for step in range(10_000):
        if gap <= gap_tol:
            break
        gradient_now = _marginal_values(game, theta, effort.clip(1e-12), state)
        vertex = favoured_option(game, np.nan_to_num(gradient_now, posinf=1e12), 1.0, tie_tol=0.0)
        direction = vertex - effort
        # Exact line search on the concave 1-d restriction by golden section.
        low, high = 0.0, 1.0
        for _ in range(60):
            a, b = high - 0.618 * (high - low), low + 0.618 * (high - low)
            if utility((effort + a * direction).ravel()) < utility((effort + b * direction).ravel()):
                low = a
            else:
                high = b
        effort = effort + 0.5 * (low + high) * direction
        gap = _frank_wolfe_gap(game, theta, effort, state)
    if gap > gap_tol:
        warnings.warn(f"concave best response stopped at duality gap {gap:.3g} > gap_tol={gap_tol:.3g}",
                      RuntimeWarning, stacklevel=3)
    favourite = _principal_favourite(game, theta, effort)
    # The agent's utility bound U* <= U_A(effort) + gap certifies the favourite too, up to what it gave up.
    lost = max(utility(effort.ravel()) - utility(favourite.ravel()), 0.0)
    return Response(favourite, max(gap, 0.0) + lost)


#: Principal value (relative to ``T B max|lambda|``, the most a policy can be worth) a tie-break must gain to
#: replace the agent's solution.
_TIE_BREAK_GAIN = 1e-9


def _principal_favourite(game: StatefulGame, theta: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """Among effort policies ``(T, d)`` that give every feature ``theta`` weighs the value ``effort`` gives it, one the
    principal values most (an LP, HiGHS); ``effort`` itself unless that gains the principal something.

    Why this is the principal-favouring tie-break of a concave agent: ``U_A = sum_t gamma^(t-1) sum_i theta_ti
    g(z_ti)`` with ``g`` strictly concave (sqrt, log1p) and the latent features ``z`` affine in the effort policy,
    so two best responses with different weighed features would have a strictly better midpoint: the agent's
    best responses are exactly the feasible policies with the weighed features of any one of them, and they
    share its utility and its Frank–Wolfe gap (the gradient depends on the weighed features only).

    The LP is scale-free: its variables are budget shares ``e / B``, its objective ``lambda / max|lambda|`` and each
    feature row is divided by its largest entry, since HiGHS treats coefficients below about 1e-9 as 0 (a game
    with ``lambda`` or ``B`` of 1e-12 would otherwise lose its tie-break).
    """
    T, d, B = game.horizon, game.n_efforts, game.budget
    largest_value = float(np.abs(game.effort_value).max())
    if largest_value == 0.0:
        return effort  # the principal is indifferent: nothing to gain
    latent = _derived(game, _rollout_map)[0][(T + 1) * d:]  # (T n, T d): z = latent . e + (terms of the state)
    weighed = latent[theta.ravel() > 0.0]
    row_scales = np.abs(weighed).max(axis=1, keepdims=True, initial=0.0)
    weighed = weighed / np.where(row_scales > 0.0, row_scales, 1.0)
    values = np.tile(game.effort_value, T)
    shares = effort.ravel() / B
    result = linprog(-values / largest_value, A_ub=np.kron(np.eye(T), np.ones(d)), b_ub=np.ones(T), A_eq=weighed,
                     b_eq=weighed @ shares, bounds=(0.0, 1.0), method="highs",
                     options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if result.status != 0:
        return effort
    favourite = B * clip_rows(result.x.reshape(T, d), 1.0, exact=False)
    gain = values @ (favourite - effort).ravel()
    return favourite if gain > _TIE_BREAK_GAIN * T * B * largest_value else effort


def clip_rows(rows: np.ndarray, total: float = 1.0, exact: bool = True) -> np.ndarray:
    """Clean solver round-off from rows ``(..., k)``: entries clipped at 0, then each row rescaled to sum to ``total``
    (``exact=True``: rules on the simplex; rows must not be all zero) or scaled down only where it exceeds
    ``total`` (``exact=False``: efforts within the budget ``total``)."""
    rows = np.clip(rows, 0.0, None)
    totals = rows.sum(axis=-1, keepdims=True)
    if exact:
        return rows / totals * total
    return np.where(totals > total, rows * total / np.maximum(totals, 1e-300), rows)


# ---------------------------------------------------------------------------------------------
# Named instances
# ---------------------------------------------------------------------------------------------

def classroom(horizon: int = 5, **changes) -> StatefulGame:
    """Kleinberg–Raghavan's classroom, made stateful (the paper's Example 1.1 / Appendix A).

    Efforts (d=3): copy on the test, study, look up homework answers. Features (n=2): test score,
    homework score. ``W = [[1, 0.4, 0], [0, 0.4, 1]]``: studying raises both scores by 0.4, each form of
    cheating raises one score by 1. Studying is retained (``omega = (0, 1, 0)``), nothing is forgotten
    (``p = 1``), ``B = 1``, ``gamma = 1``, and the teacher values study only (``lambda = (0, 1, 0)``).

    At ``T = 1`` studying is worth 0.4 per unit against at least 0.5 for the better form of cheating,
    so it cannot be incentivized; with ``T`` rounds, studying in round ``tau`` is worth
    ``0.4 (T - tau + 1)``, so the principal can incentivize study in rounds ``1..T-1``: the best
    reachable average study effort is ``(T - 1) / T``. ``changes`` override any field.
    """
    fields = dict(conversion_matrix=[[1.0, 0.4, 0.0], [0.0, 0.4, 1.0]], retention=[0.0, 1.0, 0.0],
                  persistence=[1.0, 1.0, 1.0], initial_state=[0.0, 0.0, 0.0], budget=1.0,
                  effort_value=[0.0, 1.0, 0.0], horizon=horizon, discount=1.0, conversion="linear",
                  effort_names=("copy", "study", "lookup"), feature_names=("test", "homework"))
    fields.update(changes)
    return StatefulGame(**fields)


def classroom_project(horizon: int = 5, **changes) -> StatefulGame:
    """The classroom with a graded project: studying must be rewarded through the one score cheating cannot move.

    Efforts (d=3) as in :func:`classroom`: copy, study, look up answers; features (n=3): test, homework, project.
    ``W = [[1, 0.1, 0], [0, 0.1, 1], [0, 0.25, 0]]``: each form of cheating raises one score by 1; studying raises
    test and homework by only 0.1 but is the only way to raise the project score (by 0.25). Studying is retained
    (``omega = (0, 1, 0)``), ``p = 1``, ``B = 1``, ``gamma = 1``, and the teacher values study only
    (``lambda = (0, 1, 0)``).

    Under the uniform rule a unit of study is worth ``0.45 / 3 = 0.15`` per remaining round against ``1/3`` for
    either form of cheating: a myopic agent cheats in every round (``U_P = 0``) and a rational or forecasting one
    studies only while three or more rounds remain (``U_P = max(T - 2, 0)``). Putting enough weight on the project
    (e.g. all of it, the best constant rule) makes study the best response in every round: ``U_P* = T`` against
    all three response models. ``changes`` override any field.
    """
    fields = dict(conversion_matrix=[[1.0, 0.1, 0.0], [0.0, 0.1, 1.0], [0.0, 0.25, 0.0]],
                  feature_names=("test", "homework", "project"))
    fields.update(changes)
    return classroom(horizon, **fields)


def random_game(rng: np.random.Generator, horizon: int = 3, n_features: int = 2, n_efforts: int = 3,
                conversion: str = "linear", discount: float | None = None) -> StatefulGame:
    """A random instance drawn from ``rng``.

    ``W`` entries are uniform on ``[0, 1]`` with about a third set to 0; retention uniform on ``[0, 1]``
    with about half the types not retained at all; persistence uniform on ``[0.5, 1]``; ``lambda``
    uniform on ``[-1, 1]``; ``B = 1``; ``s_1 = 0``; ``gamma`` uniform on ``[0.8, 1]`` unless given.
    ``ValueError`` naming the argument for bad input (``conversion`` and ``discount`` are checked by the game).
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (numpy.random.default_rng(seed)), got {rng!r}")
    horizon = as_positive_int(horizon, "horizon")
    n_features = as_positive_int(n_features, "n_features")
    n_efforts = as_positive_int(n_efforts, "n_efforts")
    W = rng.uniform(0.0, 1.0, (n_features, n_efforts)) * (rng.random((n_features, n_efforts)) > 1 / 3)
    retention = rng.uniform(0.0, 1.0, n_efforts) * (rng.random(n_efforts) > 0.5)
    return StatefulGame(conversion_matrix=W, retention=retention, persistence=rng.uniform(0.5, 1.0, n_efforts),
                        budget=1.0, effort_value=rng.uniform(-1.0, 1.0, n_efforts), horizon=horizon,
                        discount=float(rng.uniform(0.8, 1.0)) if discount is None else discount,
                        conversion=conversion)
