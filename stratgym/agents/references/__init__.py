"""What each stratgym env is scored against: its exact optimum and baselines, for the side that learns in it.

Each env's entry in the family registry (:mod:`stratgym.registry`, :class:`~stratgym.registry.EnvEntry`) names its
reference function, ``reference(env, n_episodes, seed) -> ReferenceValues``, which lives in this package's module of
its family (:mod:`~stratgym.agents.references.stateful`, :mod:`~stratgym.agents.references.persuasion`, ...);
:func:`reference_values` builds the env from the user's kwargs, calls it and returns a :class:`Reference`.
Values are in the units of the env's episode return (summed with :func:`Reference.discount`), for the
side that learns in that env, and in the currency learners are scored in
(:func:`stratgym.agents.evaluate.score_policy`: the exact expectation wherever the env gives one).

Every reference also has ``uniform``, the value of the policy every learner starts from (the all-zeros Box
action: the uniform rule, scheme, split or commitment; on the discrete envs the uniformly random action), the ``b``
of the normalized score ``(learned - b) / (optimum - b)``, and ``robust_optimum``, the optimum with strict
incentives (margin ``ROBUST_MARGIN`` relative to the game's scale; ``robust_note`` says how, or why there is none),
which shows how much of the optimum rests on the agent's ties.

Values that depend on the episode (a plan or a rule drawn at reset) are averaged over the episodes
``seed .. seed + n_episodes - 1``, the very episodes :func:`stratgym.agents.evaluate.score_policy`
plays with the same ``seed``, so learned and reference values are paired.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from stratgym.agents.evaluate import EVAL_SEED, score_policy
from stratgym.agents.instances import make_env
from stratgym.games.behaviour import NoExactMethodError
from stratgym.games.validation import as_positive_int
from stratgym.registry import EnvEntry, EnvTable, env_entry, load


class NoExactReference(NoExactMethodError):
    """The env has a reference solver, but not for this configuration (e.g. a quantal or learned agent): a
    :class:`~stratgym.games.behaviour.NoExactMethodError` (a ``ValueError``)."""


@dataclass(frozen=True)
class Reference:
    """Reference values of one env instance for its learning side.

    Attributes:
        env_id: the env.
        side: ``"principal"`` or ``"agent"``.
        optimum: the exact optimal expected return.
        baselines: baseline name -> expected return, in a fixed order.
        solver: what computed ``optimum``.
        discount: the discount the returns are summed with (1 except for discounted agents).
        solve_time: seconds spent computing these values.
        n_episodes: how many evaluation episodes the values average over (1 if they do not depend on them).
        optimum_name: what ``optimum`` is, for legends ("exact optimum" unless the env has none).
        uniform: the value of the policy learners start from (module doc); ``None`` in references computed
            before it existed.
        robust_optimum: the optimum with strict incentives, ``None`` if none exists (``robust_note`` says why).
        robust_note: how ``robust_optimum`` was computed, or why there is none.
        score_basis: how these values and the learners' scores are computed: ``"exact"``, ``"exact per
            episode"`` or ``"sampled"`` (:func:`stratgym.agents.evaluate.score_basis`).
        upper_bound: whether ``optimum`` bounds every policy's expected return (not the commitment value of
            ``PersuasionRecommend-v0``); a learner above an upper bound beyond its CI is an error.
        metrics: the optimal policy's social metrics (flat, :meth:`~stratgym.games.metrics.SocialMetrics.flat`) on
            the evaluation episodes, for envs that report them (the population envs); ``{}`` otherwise.
    """

    env_id: str
    side: str
    optimum: float
    baselines: dict[str, float] = field(default_factory=dict)
    solver: str = ""
    discount: float = 1.0
    solve_time: float = 0.0
    n_episodes: int = 1
    optimum_name: str = "exact optimum"
    uniform: float | None = None
    robust_optimum: float | None = None
    robust_note: str = ""
    score_basis: str = "sampled"
    upper_bound: bool = True
    metrics: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Reference":
        """Inverse of :meth:`to_json`."""
        return cls(**data)


#: Bumped whenever a :class:`Reference` gains a field or a value changes meaning, so cached references are recomputed.
REFERENCE_VERSION = 6  # 6: the signaling optimum uses the agent's tie zone (5: the matrix optimum)
#: Margin of the robust optima, relative to the game's scale: ``ROBUST_MARGIN x`` the smallest round scale
#: (stateful, :func:`stratgym.games.stateful.round_scales`) or the range of ``u_A`` (persuasion, posterior units).
ROBUST_MARGIN = 1e-3
#: Robust optimum of the agent envs: the agent's own best response rests on no tie of another player.
AGENT_ROBUST_NOTE = "n/a: the agent's own best response (robust optimum = optimum)"


@dataclass(frozen=True)
class ReferenceValues:
    """What a family's reference function returns: the fields of :class:`Reference` that depend on the env instance.

    Attributes as :class:`Reference`'s; ``solver``, ``optimum_name`` and ``upper_bound`` left ``None`` are the env's
    registry entry's (an env whose optimum depends on its configuration, e.g. on the receiver, sets them).
    """

    optimum: float
    baselines: dict[str, float]
    uniform: float | None
    robust_optimum: float | None
    robust_note: str
    score_basis: str
    discount: float = 1.0
    n_episodes: int = 1
    metrics: dict[str, float] = field(default_factory=dict)
    solver: str | None = None
    optimum_name: str | None = None
    upper_bound: bool | None = None


def zero_action_value(env: gym.Env, n_episodes: int, seed: int, discount: float = 1.0) -> float:
    """The score of the all-zeros Box action, the uniform rule / scheme / split (``box_to_simplex``) every
    learner starts from, on the evaluation episodes."""
    zeros = np.zeros(env.action_space.shape, dtype=env.action_space.dtype)
    return score_policy(lambda observation: zeros, env, n_episodes, seed, discount=discount).mean


# ---------------------------------------------------------------------------------------------
# Scores against a reference
# ---------------------------------------------------------------------------------------------

#: Scores within ``SCORE_RTOL * max(1, |optimum|)`` of the optimum (or of the uniform value) count as equal to it:
#: the exact optima are stated to about 1e-9 and float32 actions earn them within 1e-6 relative (issue 13, item 1).
SCORE_RTOL = 1e-6


def score_tolerance(optimum: float) -> float:
    """Absolute tolerance of the score checks at ``optimum`` (:data:`SCORE_RTOL`)."""
    return SCORE_RTOL * max(1.0, abs(float(optimum)))


def normalized_score(value: float, optimum: float, uniform: float | None) -> float | None:
    """``(value - b) / (optimum - b)`` with ``b = uniform``, the value of the policy learners start from: 0 for it,
    1 for the optimum, defined whatever the optimum's sign (as Atari's human-normalized scores). ``None`` when
    ``uniform`` is unknown or equals the optimum (within :func:`score_tolerance`): nothing to learn."""
    if uniform is None or abs(optimum - uniform) <= score_tolerance(optimum):
        return None
    return (value - uniform) / (optimum - uniform)


def above_optimum(reference: Reference, seed_means: Sequence[float], ci95: float, basis: str) -> bool:
    """Whether learned values exceed an optimum that is an upper bound (``reference.upper_bound``) by more than
    their uncertainty: an error to surface (the optimum or the scoring is wrong), never a result.

    The rule: the mean over seeds minus its 95% half-width (0 if undefined) above the optimum, beyond
    :func:`score_tolerance`; and with exact scores (``basis`` not ``"sampled"``), any one seed above it, since an
    exact expectation cannot beat the exact optimum.
    """
    if not reference.upper_bound:
        return False
    limit = reference.optimum + score_tolerance(reference.optimum)
    half_width = 0.0 if np.isnan(ci95) else ci95
    if float(np.mean(seed_means)) - half_width > limit:
        return True
    return basis != "sampled" and max(seed_means) > limit


#: Env id -> its :class:`~stratgym.registry.EnvEntry`: a live view of the registry (the envs that have a reference).
REFERENCES = EnvTable(lambda entry: entry)


def env_reference(env_id: str) -> EnvEntry:
    """The registry entry of ``env_id`` (side, reference function, solver); ``ValueError`` listing the known ids
    otherwise."""
    if env_id not in REFERENCES:
        raise ValueError(f"no reference solver for env {env_id!r}; known envs: {sorted(REFERENCES)}")
    return env_entry(env_id)


def reference_values(env_id: str, env_kwargs: dict | None = None, n_episodes: int = 10,
                     seed: int = EVAL_SEED) -> Reference:
    """Compute the :class:`Reference` of ``env_id`` built with ``env_kwargs`` (JSON scheme of :mod:`~stratgym.agents.instances`)."""
    entry = env_reference(env_id)
    n_episodes = as_positive_int(n_episodes, "n_episodes")
    start = time.perf_counter()
    env = make_env(env_id, env_kwargs)
    try:
        values = load(entry.reference)(env, n_episodes, int(seed))
    finally:
        env.close()
    given = lambda value, default: default if value is None else value  # noqa: E731
    return Reference(env_id=env_id, side=entry.side, optimum=float(values.optimum), baselines=values.baselines,
                     solver=given(values.solver, entry.solver), discount=float(values.discount),
                     solve_time=time.perf_counter() - start, n_episodes=values.n_episodes,
                     optimum_name=given(values.optimum_name, entry.optimum_name), uniform=values.uniform,
                     robust_optimum=values.robust_optimum, robust_note=values.robust_note,
                     score_basis=values.score_basis, upper_bound=given(values.upper_bound, entry.upper_bound),
                     metrics=dict(values.metrics))


# SchemePolicy's old home (it plays a scheme on PersuasionRecommend-v0); imported last: that module reads this one.
from stratgym.agents.references.persuasion import SchemePolicy  # noqa: E402,F401
