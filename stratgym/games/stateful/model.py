"""The game's parameters: :class:`StatefulGame` (validated at construction), its agent behaviours (the legacy names
and the objects of :mod:`stratgym.games.behaviour` they stand for), conversion shapes, and the cache of values
derived from a game."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

from stratgym.games.behaviour import Lookahead, Rational, as_behaviour
from stratgym.games.fields import FieldwiseEqual, axis_length
from stratgym.games.validation import as_positive_int, as_real_array, check_range

#: The legacy names of this game's agent behaviours (:mod:`stratgym.games.behaviour`): full-horizon best response
#: (``Rational()``), current round only (``Lookahead(1)``), and re-planning each round as if the current rule stayed
#: in force (``Lookahead(None)``). Every ``model`` argument of the game's functions takes these names or the objects.
RESPONSE_MODELS = ("rational", "myopic", "forecasting")


def stateful_agent(model) -> Rational | Lookahead:
    """``model`` (a name of :data:`RESPONSE_MODELS`, ``"lookahead-k"``, ``Rational()`` or ``Lookahead(k)``) as its
    behaviour object: the agents whose best response this package computes. ``ValueError`` otherwise."""
    try:
        agent = as_behaviour(model)
    except ValueError:
        agent = None
    if not isinstance(agent, (Rational, Lookahead)):
        raise ValueError(f"model must be one of {RESPONSE_MODELS}, Rational() or Lookahead(k) (a best response is "
                         f"computed for those only), got {model!r}")
    return agent


def per_round_agent(model) -> Lookahead:
    """``model`` as the :class:`~stratgym.games.behaviour.Lookahead` it names (``"myopic"``, ``"forecasting"``,
    ``Lookahead(k)``): the agents that answer one round's rule at a time. ``ValueError`` otherwise."""
    agent = stateful_agent(model)
    if not isinstance(agent, Lookahead):
        raise ValueError(f"model must be 'myopic', 'forecasting' or Lookahead(k) for a per-round response, got "
                         f"{model!r}")
    return agent

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
class StatefulGame(FieldwiseEqual):
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

    def __getstate__(self) -> dict:
        """What pickling and copying keep: the fields and the derived tables, without :func:`repeated_rows`'s tiles
        (batch-sized: megabytes after a large vector env; rebuilt on demand)."""
        state = dict(self.__dict__)
        state.pop(row_tiles.__name__, None)
        return state

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

    n_features = axis_length("conversion_matrix", 0, "``n``, the number of observable features.")
    n_efforts = axis_length("conversion_matrix", 1, "``d``, the number of effort types.")

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


def _as_names(names, field: str, length: int) -> tuple[str, ...]:
    """``names`` as a tuple of ``length`` strings; ``ValueError`` naming ``field`` otherwise (a single string is
    one name, not a sequence of letters)."""
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise ValueError(f"{field} must be a sequence of {length} strings, got {names!r}")
    names = tuple(names)
    if len(names) != length or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{field} must be a sequence of {length} strings, got {names!r}")
    return names


def repeated_rows(cache: dict, key, vector: np.ndarray, rows: int) -> np.ndarray:
    """``vector`` ``(d,)`` repeated over ``rows`` rows: a read-only ``(rows, d)`` view of a copy kept in ``cache``
    under ``key`` (grown when a larger batch asks).

    Why: numpy multiplies a batch ``(k, d)`` by a vector ``(d,)`` one short row at a time, several times slower for
    thousands of rows than two arrays of the same shape, which it treats as one long row. The products are the
    same numbers."""
    tile = cache.get(key)
    if tile is None or len(tile) < rows:
        tile = cache[key] = np.tile(vector, (rows, 1))
        tile.setflags(write=False)
    return tile[:rows]


def row_tiles(game: StatefulGame) -> dict:
    """The cache of :func:`repeated_rows` for a game's vectors (cache it with :func:`derived`)."""
    return {}


def derived(game: StatefulGame, build: Callable[[StatefulGame], object]):
    """``build(game)``, computed once and cached on the (immutable) game: a derived value, not a field."""
    cached = game.__dict__.get(build.__name__)
    if cached is None:
        cached = game.__dict__[build.__name__] = build(game)
    return cached
