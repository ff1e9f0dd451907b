"""Native vector envs of the population envs (:mod:`stratgym.envs.population`): many episodes stepped together with
numpy over the batch, equal to the scalar envs step for step (:mod:`stratgym.envs.vector` for the autoreset and
randomness rules)."""

from __future__ import annotations

import numpy as np
from gymnasium.vector import AutoresetMode

from stratgym.envs.population import PersuasionPopulationEnv, StatefulPopulationEnv
from stratgym.envs.population_core import APPLICANT_METRICS, applicant_step
from stratgym.envs.persuasion.core import batch_last_simplex
from stratgym.envs.stateful.core import row_dot
from stratgym.envs.vector import RoundVectorEnv, count, with_rows
from stratgym.games.metrics import social_metrics
from stratgym.games.population import stateful_subject_metrics
from stratgym.games.stateful import next_state, observe
from stratgym.games.ties import TIE_TOL, precision_slack


class PersuasionPopulationVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`~stratgym.envs.population.PersuasionPopulationEnv` episodes stepped together (native
    vector env; keyword arguments go to the scalar env).

    Autoreset ``NEXT_STEP`` (default: an episode is one step) or ``SAME_STEP``. Each new episode draws its applicant
    from this env's ``np_random``, sub-env after sub-env; a step multiplies the schemes once per applicant present
    and decides the whole batch together, on the scalar env's core (:mod:`stratgym.envs.population_core`).
    ``info``: the scalar env's keys batched, each with its mask; ``scheme`` is ``(num_envs, R, A)`` when every
    applicant of the step has ``R`` regions (an object array of the ``(R_i, A)`` schemes otherwise); ``metrics`` a
    dict of ``(num_envs,)`` entries with their masks (Gymnasium's layout of a dict entry).
    """

    def __init__(self, num_envs: int = 1, autoreset_mode=AutoresetMode.NEXT_STEP, max_episode_steps: int | None = None,
                 **kwargs):
        single = PersuasionPopulationEnv(**kwargs)
        super().__init__(single, num_envs, autoreset_mode, max_episode_steps)
        self.population, self.table = single.population, single.table
        self._cumulative = np.array(single.cumulative_weights)
        self._groups = np.array(self.population.groups)
        self._applicants = np.zeros(self.num_envs, dtype=np.int64)

    def _restart(self, rows) -> dict:
        u = self.np_random.random(count(rows, self.num_envs))  # per new episode: its applicant
        single = self.single
        drawn = single.applicants[np.minimum(np.searchsorted(self._cumulative, u, side="right"),
                                             len(single.applicants) - 1)]
        self.table.ensure(drawn)
        self._applicants = self._applicants.copy()  # arrays of earlier infos are never changed
        self._applicants[rows] = drawn
        return {"applicant": drawn, "group": self._groups[drawn]}

    def _map_actions(self, actions) -> np.ndarray:
        """Laid out batch last when every entry lies inside the box (as ``PersuasionSchemeVectorEnv``)."""
        if isinstance(actions, np.ndarray) and actions.shape == self.action_space.shape \
                and actions.dtype in (np.float32, np.float64) and max(-actions.min(), actions.max()) < 1.0:  # not NaN
            return batch_last_simplex(actions)
        return super()._map_actions(actions)

    def _play(self, rows, mapped: np.ndarray, actions):
        single, applicants = self.single, self._applicants[rows]
        penalty = (single.penalty_weight, single.bic_margin) if single.reward == "penalized" else None
        values = applicant_step(self.table, applicants, mapped[rows], single.tie_tol,
                                precision_slack(actions, self.population.template.n_actions), penalty)
        info = {"applicant": applicants, "group": self._groups[applicants],
                **{name: values[name] for name in ("scheme", "responses", "principal_value", "agent_value",
                                                   "bic_slack")},
                "metrics": {name: values[name] for name in APPLICANT_METRICS}}  # batched as SyncVectorEnv does
        if penalty is not None:
            info["bic_violation"] = values["bic_violation"]
        return values["reward" if penalty else "principal_value"], np.ones(len(applicants), dtype=bool), info

    def _observations(self) -> np.ndarray:
        return self.table.observations[self._applicants]



class StatefulPopulationVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`~stratgym.envs.population.StatefulPopulationEnv` episodes stepped together (native vector
    env; keyword arguments go to the scalar env).

    Autoreset ``NEXT_STEP`` (default) or ``SAME_STEP``; nothing is drawn. A round answers every sub-env's rule type
    by type with the scalar env's responses over the batch (linear games: a few numpy calls per type), and the last
    round's ``metrics`` come from the games' metrics over the batch (:func:`~stratgym.games.population.\
stateful_subject_metrics`, :func:`~stratgym.games.metrics.social_metrics`), the scalar env's up to the last bits of
    a sum. ``info``: the scalar env's keys batched, each with its mask; ``metrics`` a dict of ``(num_envs,)`` entries
    with their masks (Gymnasium's layout of a dict entry).
    """

    def __init__(self, num_envs: int = 1, autoreset_mode=AutoresetMode.NEXT_STEP, max_episode_steps: int | None = None,
                 **kwargs):
        single = StatefulPopulationEnv(**kwargs)
        super().__init__(single, num_envs, autoreset_mode, max_episode_steps)
        population = self.population = single.population
        T, K, n, d = population.horizon, population.n_types, population.n_features, population.types[0].n_efforts
        self._initial = np.array([game.initial_state for game in population.types])
        b = self.num_envs
        # Per sub-env: rounds played, every type's state, the rules and efforts played, the last features and rules.
        self._rounds = np.zeros(b, dtype=np.int64)
        self._states = np.tile(self._initial, (b, 1, 1))
        self._rules = np.zeros((b, T, single.rule_rows, n))
        self._efforts = np.zeros((b, K, T, d))
        self._features = np.zeros((b, K, n))

    def _restart(self, rows) -> dict:
        # New arrays (the arrays of earlier infos are never changed), the restarted sub-envs' rows cleared.
        self._rounds, self._states = self._rounds.copy(), self._states.copy()
        self._rules, self._features = self._rules.copy(), self._features.copy()
        self._rounds[rows], self._states[rows], self._rules[rows], self._features[rows] = 0, self._initial, 0.0, 0.0
        return {}

    def _play(self, rows, mapped: np.ndarray, actions):
        single, population = self.single, self.population
        k, n = count(rows, self.num_envs), population.n_features
        rules = mapped[rows].reshape(k, single.rule_rows, n)
        rounds, states = self._rounds[rows], self._states[rows]
        tie_tol = TIE_TOL + precision_slack(actions, n)
        efforts, features, after = np.empty_like(states), np.empty((k, population.n_types, n)), np.empty_like(states)
        rewards = np.zeros(k)
        for j, (game, responses, group) in enumerate(zip(population.types, single.responses, single.group_of_type)):
            efforts[:, j] = responses.respond(rules[:, group], states[:, j], rounds, self.np_random, tie_tol)
            features[:, j] = observe(game, states[:, j], efforts[:, j])
            after[:, j] = next_state(game, states[:, j], efforts[:, j])
            rewards = rewards + population.weights[j] * row_dot(efforts[:, j], game.effort_value)
        info = {"rules": rules, "efforts": efforts, "states": states, "features": features,
                "average_features": _weighted_sum(population.weights, features)}
        played, record = self._rules.copy(), self._efforts.copy()
        t = int(rounds[0])  # the sub-envs start together and every episode lasts T rounds: they play in step
        played[rows, t], record[rows, :, t] = rules, efforts
        self._rules, self._efforts = played, record
        self._states = with_rows(self._states, rows, after)
        self._features = with_rows(self._features, rows, features)
        self._rounds = self._rounds.copy()
        self._rounds[rows] = rounds + 1
        terminated = rounds + 1 == population.horizon
        if terminated.all():
            info["metrics"] = self._metrics(played[rows], record[rows])
        return rewards, terminated, info

    def _metrics(self, rules: np.ndarray, efforts: np.ndarray) -> dict[str, np.ndarray]:
        """The episodes' social metrics (the scalar env's ``population_outcome(...).metrics.flat()``) from their rules
        ``(k, T, G', n)`` and efforts ``(k, K, T, d)``."""
        population, groups = self.population, self.single.group_of_type
        per_type = [stateful_subject_metrics(game, efforts[:, j], rules[:, :, groups[j]], population.threshold)
                    for j, game in enumerate(population.types)]
        columns = {name: np.stack([values[name] for values in per_type], axis=-1) for name in per_type[0]}
        return social_metrics(columns, population.weights, population.groups).flat()

    def _observations(self) -> np.ndarray:
        """The scalar env's observation for every sub-env: rounds played, weighted average features (overall and per
        group), last rules, clipped to ``[0, 1]``."""
        single, population = self.single, self.population
        parts = [(self._rounds / population.horizon)[:, None],
                 _weighted_sum(population.weights, self._features) * single.feature_scale]
        if single.per_group:
            parts += [_weighted_sum(w, self._features) / w.sum() * single.feature_scale for w in single.group_weights]
        played = self._rounds > 0  # the last round's rules (0 before round 1)
        last = self._rules[np.arange(self.num_envs), np.maximum(self._rounds - 1, 0)] * played[:, None, None]
        parts.append(last.reshape(self.num_envs, -1))
        return np.clip(np.concatenate(parts, axis=1), 0.0, 1.0).astype(np.float32)


def _weighted_sum(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``weights @ values`` ``(K,) @ (..., K, n)``, the types added in order (one pass per type over the batch)."""
    total = weights[0] * values[..., 0, :]
    for j in range(1, len(weights)):
        total = total + weights[j] * values[..., j, :]
    return total
