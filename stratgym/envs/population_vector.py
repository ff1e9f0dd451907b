"""Native vector envs of the population envs (:mod:`stratgym.envs.population`): many episodes stepped together with
numpy over the batch, equal to the scalar envs step for step (:mod:`stratgym.envs.vector` for the autoreset and
randomness rules)."""

from __future__ import annotations

import numpy as np
from gymnasium.vector import AutoresetMode

from stratgym.envs.population import PersuasionPopulationEnv
from stratgym.envs.population_core import APPLICANT_METRICS, applicant_step, penalized_rewards
from stratgym.envs.persuasion.core import batch_last_simplex
from stratgym.envs.vector import RoundVectorEnv, count
from stratgym.games.ties import precision_slack


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
        self._cumulative = np.array(single._cumulative)
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
        schemes = mapped[rows]
        sums, values = applicant_step(self.table, applicants, schemes, single.tie_tol,
                                      precision_slack(actions, self.population.template.n_actions))
        info = {"applicant": applicants, "group": self._groups[applicants],
                "scheme": self._region_schemes(applicants, schemes), "responses": values["responses"],
                **{name: values[name] for name in ("principal_value", "agent_value", "bic_slack")}}
        info["metrics"] = {name: values[name] for name in APPLICANT_METRICS}  # batched as SyncVectorEnv batches dicts
        rewards = values["principal_value"]
        if single.reward == "penalized":
            rewards, info["bic_violation"] = penalized_rewards(self.table, applicants, sums, single.penalty_weight,
                                                               single.bic_margin)
        return rewards, np.ones(len(applicants), dtype=bool), info

    def _region_schemes(self, applicants: np.ndarray, schemes: np.ndarray) -> np.ndarray:
        """Each episode's scheme over its applicant's regions, in region order (the scalar env's ``info["scheme"]``)."""
        table, k = self.table, len(applicants)
        counts = table.n_regions[applicants]
        if (counts == counts[0]).all():
            # One take from the batch-last array (R, A, k) the schemes view: entry [i, s, a] is at (row, a, i).
            batch_last = np.ascontiguousarray(schemes.transpose(1, 2, 0))
            A = schemes.shape[2]
            rows = table.rows[applicants, :counts[0]]  # (k, R)
            index = (rows[:, :, None] * A + np.arange(A)) * k + np.arange(k)[:, None, None]
            return batch_last.reshape(-1).take(index)
        ragged = np.empty(k, dtype=object)
        ragged[:] = [scheme[table.region_rows(i)] for scheme, i in zip(schemes, applicants.tolist())]
        return ragged

    def _observations(self) -> np.ndarray:
        return self.table.observations[self._applicants]

