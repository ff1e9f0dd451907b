"""Native vector envs of the population envs (:mod:`stratgym.envs.population`): many episodes stepped together with
numpy over the batch, equal to the scalar envs step for step (:mod:`stratgym.envs.vector` for the autoreset and
randomness rules)."""

from __future__ import annotations

import numpy as np
from gymnasium.vector import AutoresetMode

from stratgym.envs.population import PersuasionPopulationEnv, StatefulPopulationEnv
from stratgym.envs.population_core import APPLICANT_METRICS, applicant_step
from stratgym.envs.persuasion.core import batch_last_simplex
from stratgym.envs.vector import RoundVectorEnv, count, rows_of, with_rows
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
                                precision_slack(actions, self.population.template.n_actions), penalty, self.keep_info)
        rewards, terminated = values["reward" if penalty else "principal_value"], np.ones(len(applicants), dtype=bool)
        if not self.keep_info:  # nobody reads the info: none is built
            return rewards, terminated, {}
        info = {"applicant": applicants, "group": self._groups[applicants],
                **{name: values[name] for name in ("scheme", "responses", "principal_value", "agent_value",
                                                   "bic_slack")},
                "metrics": {name: values[name] for name in APPLICANT_METRICS}}  # batched as SyncVectorEnv does
        if penalty is not None:
            info["bic_violation"] = values["bic_violation"]
        return rewards, terminated, info

    def _observations(self) -> np.ndarray:
        return self.table.observations[self._applicants]



class StatefulPopulationVectorEnv(RoundVectorEnv):
    """``num_envs`` :class:`~stratgym.envs.population.StatefulPopulationEnv` episodes stepped together (native vector
    env; keyword arguments go to the scalar env).

    Autoreset ``NEXT_STEP`` (default) or ``SAME_STEP``; nothing is drawn. A round is one call of the scalar env's
    pure core (:class:`~stratgym.envs.population_core.PopulationRounds`) over the batch, so the two agree bit for
    bit. ``info``: the scalar env's keys batched, each with its mask; ``metrics`` a dict of ``(num_envs,)`` entries
    with their masks (Gymnasium's layout of a dict entry).
    """

    def __init__(self, num_envs: int = 1, autoreset_mode=AutoresetMode.NEXT_STEP, max_episode_steps: int | None = None,
                 **kwargs):
        single = StatefulPopulationEnv(**kwargs)
        super().__init__(single, num_envs, autoreset_mode, max_episode_steps)
        self.population, self.rounds = single.population, single.rounds
        self._episodes = self.rounds.start(self.num_envs)

    def _restart(self, rows) -> dict:
        fresh = self.rounds.start(count(rows, self.num_envs))
        # Every sub-env restarting (episodes that start together end together): the new state as it is.
        self._episodes = fresh if len(fresh.rounds) == self.num_envs else with_rows(self._episodes, rows, fresh)
        return {}

    def _play(self, rows, mapped: np.ndarray, actions):
        rules = mapped[rows].reshape(count(rows, self.num_envs), self.rounds.rule_rows, -1)
        tie_tol = TIE_TOL + precision_slack(actions, self.population.n_features)
        played, rewards, info = self.rounds.step(rows_of(self._episodes, rows), rules, self.np_random, tie_tol,
                                                 metrics=self.keep_info)
        self._episodes = with_rows(self._episodes, rows, played)
        return rewards, played.rounds == self.population.horizon, info

    def _observations(self) -> np.ndarray:
        return self.rounds.observations(self._episodes)
