"""Populations of decision subjects facing one policy (issue 12): the stateful game's agent types under one
published rule, and the persuasion game's applicants under one secret rule.

Modules: :mod:`stratgym.games.population` and :mod:`stratgym.games.applicants` (populations, their named instances
and social metrics), :mod:`stratgym.baselines.population` (the exact population MILP) and
:mod:`stratgym.baselines.applicants` (per-applicant signaling LPs), :mod:`stratgym.envs.population` (two envs),
:mod:`stratgym.agents.references.population` (what the envs are scored against). The envs take their population
through ``population=`` (a name or an object), not ``game=``.
"""

from stratgym.registry import BenchmarkEnv, EnvEntry, Family, targets

_REFERENCES = "stratgym.agents.references.population"

#: Held-out scoring: PPO trains on the training applicants and is scored on the evaluation ones. It trains on the
#: penalized reward (the signaling LP's exact-penalty relaxation) with a BIC margin of 0.02: a learned scheme's
#: errors on unseen applicants then rarely cross an obedience cliff. Measured at 30k steps, seeds 0/1/2: 70.5 /
#: 75.3 / 74.1% held-out normalized, against 46.9% on the plain reward; margins 0.03 and 0.05, weight 10, 100k
#: steps, and softmax or shifted action rows were no better (the rest of the gap is generalization to 30 applicants).
_CREDIT_TRAINING = {"split": "train", "reward": "penalized", "penalty_weight": 5.0, "bic_margin": 0.02}
_CREDIT_HELDOUT = BenchmarkEnv("population-credit-heldout", "stratgym/PersuasionPopulation-v0", {"split": "evaluation"},
                               ("ppo",), n_timesteps=30000, n_eval_episodes=50, train_env_kwargs=_CREDIT_TRAINING)
_CLASSROOM_GROUPS = BenchmarkEnv("population-classroom-groups", "stratgym/StatefulPopulation-v0",
                                 {"population": "classroom_groups"}, ("ppo",), n_timesteps=8000)

FAMILY = Family(
    name="population",
    title="populations: one published rule (stateful) or one secret rule with per-applicant recommendations "
          "(persuasion) facing many decision subjects, with social metrics per group",
    game="stratgym.games.population:StatefulPopulation",
    instances=targets("stratgym.games.population", "classroom_groups", random="random_population"),
    envs=(
        EnvEntry("stratgym/StatefulPopulation-v0", "stratgym.envs.population:StatefulPopulationEnv", "principal",
                 "stateful population: one rule per round (or per group) to every agent type of a population",
                 f"{_REFERENCES}:stateful_population_reference",
                 "baselines.population.population_optimum(population, response_model, per_group): exact population "
                 "MILP", "the best constant rule, the uniform rule and the heaviest type's optimum",
                 vector_entry_point="stratgym.envs.population_vector:StatefulPopulationVectorEnv",
                 metrics=f"{_REFERENCES}:policy_metrics"),
        EnvEntry("stratgym/PersuasionPopulation-v0", "stratgym.envs.population:PersuasionPopulationEnv", "principal",
                 "persuasion population: a contextual scheme per applicant, scored on held-out applicants",
                 f"{_REFERENCES}:persuasion_population_reference",
                 "baselines.signaling.optimal_scheme per drawn applicant (the signaling LP), averaged over the "
                 "episodes", "full revelation and no information per applicant",
                 vector_entry_point="stratgym.envs.population_vector:PersuasionPopulationVectorEnv",
                 metrics=f"{_REFERENCES}:policy_metrics"),
    ),
    benchmarks={
        "quick": (BenchmarkEnv("population-classroom-groups", "stratgym/StatefulPopulation-v0",
                               {"population": "classroom_groups"}, n_timesteps=8000),
                  BenchmarkEnv("population-credit-heldout", "stratgym/PersuasionPopulation-v0",
                               {"split": "evaluation"}, n_timesteps=8000, n_eval_episodes=20,
                               train_env_kwargs=_CREDIT_TRAINING)),
        "default": (_CLASSROOM_GROUPS, _CREDIT_HELDOUT),
    },
)
