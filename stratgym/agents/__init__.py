"""Who acts: decision-subject response models, and RL learners trained, evaluated and benchmarked against the exact optima.

* :mod:`~stratgym.agents.responses`: the previous names of the bounded-rationality agents, which are now behaviour
  objects of :mod:`stratgym.games.behaviour` (``Lookahead(k)``, ``Quantal(beta, k)``, ``Learning(beta)``) that every
  principal env takes as ``agent=``.
* :mod:`~stratgym.agents.train` / :mod:`~stratgym.agents.evaluate`: seeded stable-baselines3 training with
  zoo-format hyperparameters (:mod:`~stratgym.agents.hyperparams`, files in ``hyperparams/``), learning
  curves, saving/loading, and evaluation over seeded episodes.
* :mod:`~stratgym.agents.freeze`: a trained agent as the principal env's agent (``Learned(model)``), a trained
  principal as the agent env's plan, and the alternating loop.
* :mod:`~stratgym.agents.followers`: learning followers (Hedge, fictitious play) with their external regret, and
  the repeated games they play as the agent; :mod:`~stratgym.agents.twosided`: both sides learning at once on the
  PettingZoo envs of :mod:`stratgym.multiagent` (needs the ``multiagent`` extra), scored against the optimum.
* :mod:`~stratgym.agents.references`: env id -> exact optimum and baselines (each family's reference functions in
  its module of the package, named by the family registry :mod:`stratgym.registry`);
  :mod:`~stratgym.agents.benchmark`: the resumable benchmark behind ``stratgym benchmark`` (its suites' rows come
  from the registry).
* :mod:`~stratgym.agents.instances`: the JSON scheme of ``--env-kwargs`` (game and behaviour names from the registry).

Submodules are imported on demand (training pulls in torch).
"""
