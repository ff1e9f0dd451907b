"""Gymnasium environments of the stateful principal–agent game (Harris, Heidari, Wu, "Stateful
Strategic Regression", NeurIPS 2021; the model is ``stratgym.games.stateful``).

| Environment | Who learns | One step is | Opponent |
|---|---|---|---|
| ``StatefulCommitmentEnv`` (``stratgym/StatefulCommitment-v0``) | principal | the whole game: commit to ``theta`` (T×n) | rational agent (full-horizon best response), or a :class:`ResponseModel` |
| ``StatefulPrincipalEnv`` (``stratgym/StatefulPrincipal-v0``) | principal | one round: publish ``theta_t`` | a :class:`ResponseModel` (myopic, forecasting, learned, ...) |
| ``StatefulAgentEnv`` (``stratgym/StatefulAgent-v0``) | agent | one round: spend effort ``e_t`` | a principal plan (fixed, random, or a callable) |

The three envs have native vector versions (``StatefulCommitmentVectorEnv``, ``StatefulPrincipalVectorEnv``,
``StatefulAgentVectorEnv``) that step many episodes with a few numpy calls per operation, on the same pure core
(:mod:`stratgym.envs.stateful.core`: explicit episode state and step functions for one episode or a batch), and
equal the scalar envs step for step (:mod:`stratgym.envs.vector`).

Modules: ``core`` (bounds, observations, the round dynamics as pure functions), ``responses`` (who the principal
faces), ``commitment``, ``principal``, ``agent`` (each env with its vector env). Everything public is importable
from ``stratgym.envs.stateful``.

Every env takes any :class:`~stratgym.games.stateful.StatefulGame` (``gym.make(id, game=...)``; ``None`` means
``classroom_project()``, on which the uniform rule is far from optimal), maps Box ``[-1, 1]`` actions onto the
simplex with :func:`~stratgym.envs.spaces.box_to_simplex`, rejects NaN, wrongly shaped or out-of-Box actions
with ``ValueError``, raises :class:`gymnasium.error.ResetNeeded` when stepped before ``reset`` or after the
episode ended, and draws randomness only from ``self.np_random``. Observations are float32 and normalized by
bounds computed from the game, so they always lie in the declared Box.
"""

from stratgym.envs.stateful.agent import StatefulAgentEnv, StatefulAgentVectorEnv
from stratgym.envs.stateful.commitment import StatefulCommitmentEnv, StatefulCommitmentVectorEnv, commitment_step
from stratgym.envs.stateful.core import (AgentObservations, AgentState, PrincipalPlan, PrincipalState, StatefulRoundEnv,
                                         agent_observation, as_game, describe_game, feature_bounds,
                                         marginal_value_bound, state_bounds)
from stratgym.envs.stateful.principal import StatefulPrincipalEnv, StatefulPrincipalVectorEnv
from stratgym.envs.stateful.responses import (EFFORT_TOL, LearnedResponse, PerRoundResponse, PolicyResponses,
                                              ResponseModel, RoundResponses, agent_effort, as_response_model,
                                              check_round_effort, respond_to_policy)

__all__ = ["AgentObservations", "AgentState", "EFFORT_TOL", "LearnedResponse", "PerRoundResponse", "PolicyResponses", "PrincipalPlan",
           "PrincipalState", "ResponseModel", "RoundResponses", "StatefulAgentEnv", "StatefulAgentVectorEnv",
           "StatefulCommitmentEnv", "StatefulCommitmentVectorEnv", "StatefulPrincipalEnv", "StatefulPrincipalVectorEnv",
           "StatefulRoundEnv", "agent_effort", "agent_observation", "as_game", "as_response_model", "check_round_effort",
           "commitment_step", "describe_game", "feature_bounds", "marginal_value_bound", "respond_to_policy",
           "state_bounds"]
