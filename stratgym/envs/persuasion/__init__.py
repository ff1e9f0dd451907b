"""Gymnasium environments of the recourse persuasion game (Harris et al., "Bayesian Persuasion for
Algorithmic Recourse", NeurIPS 2022; the model is ``stratgym.games.persuasion``).

| Environment | Who learns | One step is | Opponent |
|---|---|---|---|
| ``PersuasionSchemeEnv`` (``stratgym/PersuasionScheme-v0``) | principal | the whole game: commit to a scheme (regions × actions) | ``agent``: ``Bayesian()`` (posterior best response) or ``Quantal(beta)`` (logit) |
| ``PersuasionRecommendEnv`` (``stratgym/PersuasionRecommend-v0``) | principal | one round: see the rule's region, recommend an action | ``agent``: a receiver learning how much advice is worth (``Learning()``) |
| ``PersuasionAgentEnv`` (``stratgym/PersuasionAgent-v0``) | agent | one decision: see a recommendation, act | a fixed scheme |

Every env takes any :class:`~stratgym.games.persuasion.PersuasionGame` (``gym.make(id, game=...)``;
``None`` means ``synthetic_credit()``) and optionally its precomputed
:class:`~stratgym.games.persuasion.Regions` (``regions=...``: enumeration and masses are the costly part
of construction; everything else is precomputed too, so steps are cheap). Regions record the game they were
computed for, and regions of another game (another prior, say) raise ``ValueError``. A rule's region is drawn
from the region masses with ``self.np_random`` (the same law as drawing ``theta`` from the prior and
reading its pattern, and the masses the exact evaluators use). Envs raise ``ValueError`` for NaN,
wrongly shaped or out-of-space actions and :class:`gymnasium.error.ResetNeeded` when stepped before
``reset`` or after a one-step episode ended. They import nothing from ``stratgym.baselines``: a
solver's scheme (e.g. ``optimal_scheme(game).scheme``) is passed in by the caller.

The three envs have native vector versions (``PersuasionSchemeVectorEnv``, ``PersuasionRecommendVectorEnv``,
``PersuasionAgentVectorEnv``) on the same pure core (:mod:`stratgym.envs.persuasion.core`), equal to the scalar
envs step for step (:mod:`stratgym.envs.vector`).

Modules: ``core`` (setup, draws, what a scheme earns), ``receivers`` (who is persuaded round after round),
``scheme``, ``recommend``, ``agent`` (each env with its vector env). Everything public is importable from
``stratgym.envs.persuasion``.
"""

from stratgym.envs.persuasion.agent import (SCHEME_BUILDERS, PersuasionAgentEnv, PersuasionAgentVectorEnv,
                                            register_scheme)
from stratgym.envs.persuasion.core import (BIC_MARGIN, PersuasionRoundEnv, as_setup,
                                           conservative_penalty_weight, default_setup, penalized_value, quantal_choice,
                                           recommendation_observation, scheme_observation, scheme_outcomes)
from stratgym.envs.persuasion.receivers import (LearnedReceiver, LearningReceiver, QuantalReceiver, Receiver,
                                                ReceiverContext, as_receiver, learning_follows, learning_update,
                                                receiver_context)
from stratgym.envs.persuasion.recommend import (PersuasionRecommendEnv, PersuasionRecommendVectorEnv,
                                                recommend_observation)
from stratgym.envs.persuasion.scheme import PersuasionSchemeEnv, PersuasionSchemeVectorEnv, scheme_agent
from stratgym.games.behaviour import as_rationality

__all__ = ["BIC_MARGIN", "LearnedReceiver", "LearningReceiver", "QuantalReceiver", "PersuasionAgentEnv", "PersuasionAgentVectorEnv", "PersuasionRecommendEnv",
           "PersuasionRecommendVectorEnv", "PersuasionRoundEnv", "PersuasionSchemeEnv", "PersuasionSchemeVectorEnv",
           "Receiver", "ReceiverContext", "SCHEME_BUILDERS", "as_rationality", "as_receiver", "as_setup",
           "conservative_penalty_weight", "default_setup", "learning_follows", "learning_update", "penalized_value",
           "quantal_choice", "receiver_context", "recommend_observation", "recommendation_observation",
           "register_scheme", "scheme_agent", "scheme_observation", "scheme_outcomes"]
