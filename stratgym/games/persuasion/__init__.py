"""The recourse persuasion game (Bayesian persuasion for algorithmic recourse), as plain numpy.

Model (see ``shared/docs/model-persuasion.md``; Harris et al., "Bayesian Persuasion for Algorithmic
Recourse", NeurIPS 2022). A decision subject with features ``x_0`` (shape ``(m,)``, a constant-1
feature carries the intercept) can take an action ``a = 0..K`` (``A = K + 1`` actions; action 0 is
the no-op) that moves its features to ``x_0 + Delta(a)`` at cost ``c(a) >= 0``. The assessment rule
``theta`` (shape ``(m,)``) is drawn from a prior both players know; the principal sees it, the agent
does not. The decision is positive iff ``theta . (x_0 + Delta(a)) >= 0``, so

* the decision pattern of ``theta`` is ``s(theta)`` in ``{0,1}^A``, ``s_a = 1{theta . (x_0 + Delta(a)) >= 0}``
  (the boundary ``= 0`` counts as positive);
* the agent's utility is ``u_A(a, theta) = s_a(theta) - c(a)``;
* the principal's utility is ``u_P(a, theta) = U[a, s_a(theta)]`` for a table ``U`` of shape ``(A, 2)``
  (by default 1 for every action but the no-op, whatever the decision), or any function ``u_P(a, s(theta))``
  of the whole pattern.

Both utilities depend on ``theta`` only through its pattern, so rules with the same pattern form an
*equivalence region* and a signaling scheme can recommend by region without loss: a scheme is a
``(R, A)`` array whose row ``s`` is the distribution of the recommendation in region ``s``.

Tie-breaking: the agent follows a recommendation when following is among its best actions (posterior
expected utilities within ``tie_tol`` (default ``TIE_TOL``) of the maximum count as ties: "ties go to obedience";
the one meaning of a tie in :mod:`stratgym.games.ties`); otherwise,
and whenever it best-responds without a recommendation, it takes the best action the principal values
most (ties again within ``tie_tol``), then the lowest action index.

Modules: ``priors`` (Gaussian, finite-support and sampler priors), ``model`` (:class:`PersuasionGame`, decision
patterns, region payoffs), ``cells`` (cells of a hyperplane arrangement), ``masses`` (prior masses of regions),
``regions`` (:class:`Regions`, :func:`equivalence_regions`), ``evaluation`` (the agent's choice, the exact
evaluation of a scheme), ``instances`` (the prosecutor, random games). Everything public is importable from
``stratgym.games.persuasion``.
"""

from stratgym.games.persuasion.cells import CELL_POOL_SIZE, MAX_REGION_TOL, REGION_TOL, ZERO_ROW_TOL, enumerate_cells
from stratgym.games.persuasion.evaluation import (SchemeEvaluation, agent_choice, best_responses, check_scheme, evaluate_scheme,
                                              full_revelation_scheme, no_information_scheme, precision_unit,
                                              weighted_payoffs)
from stratgym.games.persuasion.instances import prosecutor, random_persuasion_game
from stratgym.games.persuasion.masses import MASS_METHODS, RegionMasses, locate_patterns, region_masses
from stratgym.games.persuasion.model import PersuasionGame, decision_patterns, region_payoffs
from stratgym.games.persuasion.priors import FiniteSupportPrior, GaussianPrior, Prior, SamplerPrior, check_rng
from stratgym.games.persuasion.regions import MASS_SUM_TOL, Regions, enumerate_regions, equivalence_regions
from stratgym.games.ties import TIE_TOL

__all__ = ["CELL_POOL_SIZE", "FiniteSupportPrior", "GaussianPrior", "MASS_METHODS", "MASS_SUM_TOL", "MAX_REGION_TOL",
           "PersuasionGame", "Prior", "REGION_TOL", "RegionMasses", "Regions", "SamplerPrior", "SchemeEvaluation",
           "TIE_TOL", "ZERO_ROW_TOL", "agent_choice", "best_responses", "check_rng", "check_scheme",
           "decision_patterns", "enumerate_cells", "enumerate_regions", "equivalence_regions", "evaluate_scheme",
           "full_revelation_scheme", "locate_patterns", "no_information_scheme", "precision_unit", "prosecutor",
           "random_persuasion_game", "region_masses", "region_payoffs", "weighted_payoffs"]
