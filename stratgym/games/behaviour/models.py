"""The agent behaviours of stratgym's games, as small immutable objects (parameters checked at construction).

Stateful game (:mod:`stratgym.games.stateful`) and its populations:

* :class:`Rational`: the best response to the principal's whole committed policy (``"rational"``); also the matrix
  games' follower (:mod:`stratgym.games.matrix`);
* :class:`Lookahead`: each round, the best response to the current rule as if it stayed in force for ``k`` rounds
  (``Lookahead(1)`` is ``"myopic"``, ``Lookahead(None)`` (the rest of the horizon) is ``"forecasting"``, and so is
  ``Lookahead(T)`` on a game of horizon ``T``);
* :class:`Quantal`: a logit choice among the budget set's vertices by their ``k``-round values.

Persuasion game (:mod:`stratgym.games.persuasion`):

* :class:`Bayesian`: the posterior best response to each recommendation, ties to obedience;
* :class:`Quantal` (``k=None``): a logit choice over the posterior expected utilities (the old ``agent_beta``);
* :class:`Learning`: the receiver of the repeated game, which learns what following each recommendation is worth.

Both: :class:`Learned`, a trained model (e.g. from SB3) standing in for the agent.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

from stratgym.games.behaviour.base import as_rationality, check_lookahead
from stratgym.games.behaviour.receivers import LearningReceiver, QuantalReceiver
from stratgym.games.matrix import MatrixGame
from stratgym.games.persuasion import PersuasionGame, Regions
from stratgym.games.ties import TIE_TOL

#: ``method=`` names of :func:`stratgym.baselines.stateful.solve` that are exact against a linear-``g`` agent.
_STATEFUL_EXACT = ("milp", "brute-force")


def _is_stateful(game) -> bool:
    """Whether ``game`` is a stateful game (the only other family with linear and concave variants)."""
    return not isinstance(game, (MatrixGame, PersuasionGame, Regions)) and hasattr(game, "is_linear")


@dataclass(frozen=True)
class Rational:
    """The fully rational agent: it best-responds to the principal's whole committed policy.

    Stateful game: the full-horizon best response, ties to the principal's favourite
    (:func:`~stratgym.games.stateful.best_response`); exact solvers ``milp`` and ``brute-force`` for linear ``g``.
    Matrix games: the follower's strong Stackelberg best response (``lp`` for one type, ``milp`` for several).
    """

    @property
    def name(self) -> str:
        return "rational"

    def exact_methods(self, game) -> tuple[str, ...]:
        """``("milp", "brute-force")`` for a linear stateful game, the matrix solver's method for a matrix game."""
        if isinstance(game, MatrixGame):
            return ("lp",) if game.n_types == 1 else ("milp",)
        return _STATEFUL_EXACT if _is_stateful(game) and game.is_linear else ()


@dataclass(frozen=True)
class Lookahead:
    """An agent that each round best-responds to the current rule as if it stayed in force for ``k`` rounds, and plays
    the first round of that plan (stateful game).

    In round ``t`` it plans ``min(k, T - t)`` rounds (``k=None``: ``T - t``, the rest of the horizon) from its current
    state, discounting restarted at 1, ties to the principal's favourite (:func:`~stratgym.games.stateful.
    respond_in_round`). ``Lookahead(1)`` is the ``"myopic"`` agent, ``Lookahead(None)`` the ``"forecasting"`` one; any
    ``k >= T`` behaves as ``None`` on a game of horizon ``T``. With linear ``g`` its choice in round ``t`` depends on
    ``theta_t`` only (the marginal value ``h_t * W^T theta_t`` of :func:`~stratgym.games.stateful.per_round_weights`),
    so the principal's exact optimum decomposes into one small problem per round: exact methods ``per-round``,
    ``milp`` and ``brute-force`` for every ``k`` (none for concave ``g``, whose choices depend on the state path).

    Args:
        k: rounds planned, a positive integer, or ``None`` for the rest of the horizon.
    """

    k: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "k", check_lookahead(self.k, "k"))

    @property
    def name(self) -> str:
        """``"myopic"`` (``k = 1``), ``"forecasting"`` (``k = None``), else ``"lookahead-k"``."""
        return "myopic" if self.k == 1 else "forecasting" if self.k is None else f"lookahead-{self.k}"

    @property
    def lookahead(self) -> int | None:
        """``k`` (the name of the previous release's ``LookaheadResponse``)."""
        return self.k

    def rounds(self, game, round_index: int = 0) -> int:
        """Rounds planned in round ``round_index`` (0-based) of ``game``: ``min(k, T - round_index)``."""
        remaining = game.horizon - int(round_index)
        return remaining if self.k is None else min(self.k, remaining)

    def exact_methods(self, game) -> tuple[str, ...]:
        """``("per-round", "milp", "brute-force")`` for a linear stateful game, else ``()``."""
        return ("per-round",) + _STATEFUL_EXACT if _is_stateful(game) and game.is_linear else ()

    def respond(self, game, rule, state, round_index: int, rng: np.random.Generator | None = None,
                tie_tol: float = TIE_TOL) -> np.ndarray:
        """This round's effort ``(d,)`` against ``rule`` ``(n,)`` in ``state`` ``(d,)`` (checked; deterministic)."""
        from stratgym.games.stateful import respond_in_round  # the game's module imports this one

        return respond_in_round(game, self, rule, state, round_index, tie_tol).effort[0]


def planning_game(game, state, round_index: int, lookahead: int | None):
    """The sub-game a ``lookahead``-round planner solves at ``round_index`` (0-based) from ``state`` ``(d,)``.

    Its horizon is ``min(lookahead, T - round_index)`` (``None``: ``T - round_index``) and it starts in ``state``.
    Discounting restarts at 1, a common rescaling that leaves every argmax unchanged.
    """
    if isinstance(round_index, (bool, np.bool_)) or not isinstance(round_index, (int, np.integer)) \
            or not 0 <= round_index < game.horizon:
        raise ValueError(f"round_index must be an integer in [0, {game.horizon - 1}], got {round_index!r}")
    horizon = Lookahead(check_lookahead(lookahead, "lookahead")).rounds(game, round_index)
    return game.replace(horizon=horizon, initial_state=np.asarray(state, dtype=np.float64))


@dataclass(frozen=True)
class Quantal:
    """A logit (quantal-response) agent with rationality ``beta`` (1/utility units; ``inf``: the exact agent).

    Stateful game (linear ``g``): each round it picks a vertex of the budget set ("all budget on type ``j``", or no
    effort, index ``d``) with probability ``∝ exp(beta v)``, ``v`` the options' ``k``-round values of
    :class:`Lookahead`'s planning problem (``B c_j`` with ``c`` the planning sub-game's first-round marginal values,
    0 for no effort); ``beta = inf`` is ``Lookahead(k)``, ``beta = 0`` the uniform choice. Concave ``g`` is rejected:
    its best responses are not vertices. Persuasion game (``k`` must be ``None``): after a recommendation it takes
    action ``b`` with probability ``∝ exp(beta U(b))``, ``U`` its posterior expected utilities. No exact method:
    the solvers raise :class:`~stratgym.games.behaviour.NoExactMethodError`.

    Args:
        beta: rationality ``>= 0`` (``float("inf")`` allowed).
        k: the stateful agent's lookahead (rounds planned; ``None``: the rest of the horizon).
    """

    beta: float
    k: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "beta", as_rationality(self.beta, "beta"))
        object.__setattr__(self, "k", check_lookahead(self.k, "k"))

    @property
    def name(self) -> str:
        return "quantal"

    @property
    def lookahead(self) -> int | None:
        """``k`` (the name of the previous release's ``QuantalResponse``)."""
        return self.k

    def exact_methods(self, game) -> tuple[str, ...]:
        """``()``: no solver is exact against a logit agent."""
        return ()

    def marginal_values(self, game, rule, state, round_index: int) -> np.ndarray:
        """The planner's marginal value of effort this round, ``(d,)``: ``c`` of the planning sub-game's first round."""
        from stratgym.games.stateful import marginal_values  # the game's module imports this one

        _require_linear(game)
        sub_game = planning_game(game, state, round_index, self.k)
        return marginal_values(sub_game, np.tile(rule, (sub_game.horizon, 1)))[0]

    def _exact(self, game, rule, state, round_index: int) -> np.ndarray:
        """The ``beta = inf`` effort ``(d,)``: ``Lookahead(k)``'s."""
        _require_linear(game)
        return Lookahead(self.k).respond(game, rule, state, round_index)

    def probabilities(self, game, rule, state, round_index: int) -> np.ndarray:
        """Choice probabilities ``(d + 1,)`` of the options (type ``0..d-1``, then "no effort"); one-hot at ``beta = inf``."""
        if np.isinf(self.beta):
            effort = self._exact(game, rule, state, round_index)
            return np.eye(game.n_efforts + 1)[int(np.argmax(effort)) if effort.any() else game.n_efforts]
        options = np.append(game.budget * self.marginal_values(game, rule, state, round_index), 0.0)
        with np.errstate(over="ignore"):  # a huge beta sends the worse options to -inf, i.e. probability 0
            return softmax(self.beta * (options - options.max()))

    def respond(self, game, rule, state, round_index: int, rng: np.random.Generator) -> np.ndarray:
        """This round's effort ``(d,)``: a vertex drawn with :meth:`probabilities` (``rng`` unused at ``beta = inf``)."""
        if np.isinf(self.beta):
            return self._exact(game, rule, state, round_index)
        option = rng.choice(game.n_efforts + 1, p=self.probabilities(game, rule, state, round_index))
        effort = np.zeros(game.n_efforts)
        if option < game.n_efforts:
            effort[option] = game.budget
        return effort


def _require_linear(game) -> None:
    if not game.is_linear:
        raise ValueError(f"the quantal stateful agent needs a linear game (conversion='linear'), got "
                         f"{game.conversion!r}")


@dataclass(frozen=True)
class Bayesian:
    """The persuasion game's exact agent: on each recommendation it forms its posterior over the rule's regions and
    takes the action of highest expected utility, the recommendation when it is among the best (ties to obedience).
    Exact method ``lp``: the signaling LP (:func:`stratgym.baselines.signaling.optimal_scheme`)."""

    @property
    def name(self) -> str:
        return "bayesian"

    def exact_methods(self, game) -> tuple[str, ...]:
        """``("lp",)`` for a persuasion game or its regions, else ``()``."""
        return ("lp",) if isinstance(game, (PersuasionGame, Regions)) else ()


@dataclass(frozen=True)
class Learning:
    """The receiver of the repeated persuasion game (``PersuasionRecommend-v0``), which learns what following each
    recommendation is worth: the running mean of its realized utility per followed recommendation, from an
    optimistic start; it follows when that beats the prior value of its default action
    (:class:`~stratgym.games.behaviour.LearningReceiver`), or with a logit probability of the difference if ``beta``
    is finite (:class:`~stratgym.games.behaviour.QuantalReceiver`). No exact method (a learner has no commitment
    optimum).

    Args:
        beta: rationality ``>= 0`` of the follow decision (``inf``: follow iff the value is at least the benchmark).
        initial_values: ``(A,)`` starting values, or ``None`` for the optimistic ``1 - c(a)``.
    """

    beta: float = float("inf")
    initial_values: tuple[float, ...] | None = None

    def __post_init__(self):
        object.__setattr__(self, "beta", as_rationality(self.beta, "beta"))
        if self.initial_values is not None:
            values = np.asarray(self.initial_values, dtype=np.float64)
            if values.ndim != 1 or not np.all(np.isfinite(values)):
                raise ValueError(f"initial_values must be a sequence of finite numbers, got {self.initial_values!r}")
            object.__setattr__(self, "initial_values", tuple(values.tolist()))

    @property
    def name(self) -> str:
        return "learning"

    def exact_methods(self, game) -> tuple[str, ...]:
        """``()``: a learning receiver has no exact optimum."""
        return ()

    def receiver(self) -> LearningReceiver:
        """A fresh receiver object (the env's protocol): a :class:`LearningReceiver`, a :class:`QuantalReceiver` if
        ``beta`` is finite."""
        if np.isinf(self.beta):
            return LearningReceiver(self.initial_values)
        return QuantalReceiver(self.beta, self.initial_values)


class Learned:
    """A trained model standing in for the agent: anything with SB3's ``predict(observation, deterministic)``,
    trained in the family's agent env of the same game shape (``StatefulAgent-v0``, ``PersuasionAgent-v0``).

    The env it is given to asks it for actions through its own agent env's observation (see the env's ``agent``
    argument). No exact method: the solvers raise :class:`~stratgym.games.behaviour.NoExactMethodError`.

    Args:
        model: the trained model (shared, never copied: ``copy.deepcopy`` returns the same object).
        deterministic: whether its actions are the deterministic ones.
    """

    def __init__(self, model, deterministic: bool = True):
        if not callable(getattr(model, "predict", None)):
            raise ValueError(f"model must have SB3's predict(observation, deterministic) method, got "
                             f"{type(model).__name__}")
        if not isinstance(deterministic, (bool, np.bool_)):
            raise ValueError(f"deterministic must be True or False, got {deterministic!r}")
        self.model, self.deterministic = model, bool(deterministic)

    @property
    def name(self) -> str:
        return "learned"

    def exact_methods(self, game) -> tuple[str, ...]:
        """``()``: no solver is exact against a learned policy."""
        return ()

    def __deepcopy__(self, memo) -> "Learned":
        # make_env deep-copies env kwargs for every env; a frozen model is only read (and a torch module cannot
        # always be deep-copied), so every copy shares it.
        return copy.copy(self)

    def __eq__(self, other) -> bool:
        return isinstance(other, Learned) and other.model is self.model and other.deterministic == self.deterministic

    def __hash__(self) -> int:
        return hash((id(self.model), self.deterministic))

    def __repr__(self) -> str:
        return f"Learned({type(self.model).__name__}, deterministic={self.deterministic})"
