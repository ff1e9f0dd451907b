"""The persuasion game's family entry: Harris et al., "Bayesian Persuasion for Algorithmic Recourse" (NeurIPS 2022).

Modules: :mod:`stratgym.games.persuasion` and :mod:`stratgym.games.credit` (the game and its credit instances),
:mod:`stratgym.baselines.signaling` (the signaling LP and reference schemes), :mod:`stratgym.envs.persuasion` (three
envs), :mod:`stratgym.games.behaviour` (the agents: Bayesian, Quantal, Learning, Learned),
:mod:`stratgym.agents.references.persuasion` (what the envs are scored against).
"""

from stratgym.registry import BenchmarkEnv, EnvEntry, Family, targets

#: Training reward of the scheme env's learners: the exact-penalty relaxation of the signaling LP, with a weight
#: near twice the LP's BIC multipliers (the conservative default, 20 on the credit instance, trains PPO to
#: 66-73% of the optimum at 30k steps against 91-98% with 5).
#: The expected reward is 0 on most of the action box and drops off a cliff at the optimum, which stalls
#: gradient learners (PPO 58-68% of the optimum, BENCHMARKS.md); learners are always scored on it.
SCHEME_TRAINING = {"reward": "penalized", "penalty_weight": 5.0}

_REFERENCES = "stratgym.agents.references.persuasion"


def optimal_signaling_scheme(regions, tie_tol: float):
    """The signaling LP's principal-optimal BIC scheme ``(R, A)``: ``PersuasionAgent-v0``'s ``scheme="optimal"``."""
    # Imported on first use: the LP stack (scipy.optimize, HiGHS) would double the cost of `import stratgym`.
    from stratgym.baselines.signaling import optimal_scheme

    return optimal_scheme(regions, tie_tol).scheme


FAMILY = Family(
    name="persuasion",
    title="Bayesian persuasion for algorithmic recourse (Harris et al., NeurIPS 2022): a principal who knows the "
          "rule recommends actions to an agent who follows when it pays",
    game="stratgym.games.persuasion:PersuasionGame",
    instances={**targets("stratgym.games.credit", "synthetic_credit", "german_credit"),
               **targets("stratgym.games.persuasion", "prosecutor", random="random_persuasion_game")},
    envs=(
        EnvEntry("stratgym/PersuasionScheme-v0", "stratgym.envs.persuasion:PersuasionSchemeEnv", "principal",
                 "persuasion game: the principal commits to a signaling scheme; a Bayesian agent best-responds",
                 f"{_REFERENCES}:scheme_reference", "baselines.signaling.optimal_scheme(regions): exact signaling LP",
                 "full revelation and no information",
                 vector_entry_point="stratgym.envs.persuasion:PersuasionSchemeVectorEnv",
                 frozen_as="the scheme= of PersuasionAgent-v0 (agents.freeze.committed_scheme)"),
        EnvEntry("stratgym/PersuasionRecommend-v0", "stratgym.envs.persuasion:PersuasionRecommendEnv", "principal",
                 "repeated persuasion: each round the principal sees the rule's region and recommends to a learning "
                 "receiver", f"{_REFERENCES}:recommend_reference",
                 "against the default learning receiver: baselines.trust.learning_receiver_bound (exact upper "
                 "bound, LP); against another receiver: signaling LP value per round x rounds (the commitment "
                 "value, not a bound)",
                 "optimal signaling, full revelation and no information played on the receiver",
                 discrete=True, max_episode_steps=100, optimum_name="commitment value (LP x rounds)",
                 upper_bound=False, vector_entry_point="stratgym.envs.persuasion:PersuasionRecommendVectorEnv"),
        EnvEntry("stratgym/PersuasionAgent-v0", "stratgym.envs.persuasion:PersuasionAgentEnv", "agent",
                 "persuasion game, agent side: hear a recommendation from a fixed scheme and act",
                 f"{_REFERENCES}:agent_reference",
                 "games.persuasion.evaluate_scheme(...).agent_value: exact expected utility of the posterior best "
                 "response", "obeying the recommendation and ignoring it", discrete=True,
                 vector_entry_point="stratgym.envs.persuasion:PersuasionAgentVectorEnv",
                 frozen_as="the agent= of PersuasionRecommend-v0 (games.behaviour.Learned)"),
    ),
    # The agent= of the scheme env (Bayesian, Quantal) and of the repeated env (Learning); receiver= is the repeated
    # env's deprecated name for it.
    behaviours={"agent": targets("stratgym.games.behaviour", bayesian="Bayesian", quantal="Quantal",
                                 learning="Learning"),
                "receiver": {"quantal": "stratgym.agents.responses:QuantalReceiver",
                             "learning": "stratgym.envs.persuasion:LearningReceiver"}},
    game_fields={"prior": "stratgym.agents.instances:build_prior"},
    named_policies={"optimal": "stratgym.families.persuasion:optimal_signaling_scheme"},
    register_policy="stratgym.envs.persuasion:register_scheme",
    # The scheme env's off-policy learner is TD3, with td3.yml's 60k steps (SAC: 0% of the optimum on the expected
    # reward, 76% on the penalized one at 20k steps, seed 0; see sac.yml).
    benchmarks={
        "quick": (
            BenchmarkEnv("scheme-credit", "stratgym/PersuasionScheme-v0", {}, n_timesteps=16000,
                         train_env_kwargs=SCHEME_TRAINING),
            BenchmarkEnv("recommend-credit", "stratgym/PersuasionRecommend-v0", {}, n_timesteps=30000),
            BenchmarkEnv("agent-credit-optimal", "stratgym/PersuasionAgent-v0", {"scheme": "optimal"},
                         n_timesteps=8000, n_eval_episodes=100),
        ),
        "default": (
            BenchmarkEnv("scheme-credit", "stratgym/PersuasionScheme-v0", {}, ("ppo", "td3"),
                         train_env_kwargs=SCHEME_TRAINING),
            BenchmarkEnv("recommend-credit", "stratgym/PersuasionRecommend-v0", {}, ("ppo", "dqn")),
            BenchmarkEnv("agent-credit-optimal", "stratgym/PersuasionAgent-v0", {"scheme": "optimal"},
                         ("ppo", "dqn"), n_eval_episodes=200),
        ),
        "full": (
            BenchmarkEnv("agent-credit-full-revelation", "stratgym/PersuasionAgent-v0", {"scheme": "full-revelation"},
                         n_eval_episodes=200),
        ),
    },
)
