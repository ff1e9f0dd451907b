"""The one result contract of every solver: both players' values, the policy, how it was found, and the evidence.

Every solver returns a :class:`SolverResult` (the stateful game's :class:`StackelbergResult`, the persuasion
game's :class:`~stratgym.baselines.signaling.SignalingResult`):

| field | meaning |
|---|---|
| ``principal_value``, ``agent_value`` | the players' expected utilities (the policy and the agent's response) |
| ``principal_se``, ``agent_se`` | their standard errors (0 when exact); ``ci95()`` gives a 95% interval |
| ``policy`` | the principal's policy (``theta`` of the stateful game, ``scheme`` of the persuasion game) |
| ``method`` | which solver produced it |
| ``solve_time`` | wall-clock seconds |
| ``certificate`` | a :class:`Certificate`: optimality gap, incentive margins, BIC slack |
| ``diagnostics`` | the solver's bookkeeping (status messages, node and LP counts): informative, not evidence |

Error bars are standard errors everywhere (one convention); a 95% interval is ``value ± 1.96 se``
(:data:`Z95`). The names of the previous release (``principal_utility``, ``agent_utility``, ``response_model``,
``optimality_gap`` and the ``certificate`` dict of :class:`StackelbergResult`; ``value_error``, ``bic_slack``,
``bic_slack_se``, ``bic_slack_bound``, ``epsilon``, ``tie_tol`` of ``SignalingResult``; ``principal_error`` /
``agent_error`` of ``SimulationEstimate``) remain as properties that emit a ``DeprecationWarning``; they will be
removed in the next release.
"""

from __future__ import annotations

import operator
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from stratgym.games.behaviour import NoExactMethodError
from stratgym.games.ties import TIE_TOL

#: The standard normal's 97.5% quantile: a 95% confidence interval is ``value ± Z95 * se``.
Z95 = 1.959963984540054
#: The previous release's error bars spanned this many standard errors (``value_error``, ``principal_error``), and
#: so do the region masses' (``Regions.mass_errors``), which the signaling results divide by it.
SE_PER_ERROR_BAR = 3.0

__all__ = ["Z95", "SE_PER_ERROR_BAR", "Certificate", "NoExactMethodError", "PlayerValues", "SolverResult",
           "StackelbergResult", "ci95", "standard_error", "deprecated_alias", "deprecated_property", "agent_name"]


def ci95(value: float, se: float) -> tuple[float, float]:
    """The 95% normal confidence interval ``(value - Z95 se, value + Z95 se)`` of an estimate with standard error
    ``se``."""
    return float(value - Z95 * se), float(value + Z95 * se)


def standard_error(values: np.ndarray) -> float:
    """The standard error of the mean of ``values`` ``(n,)``: ``std(ddof=1) / sqrt(n)`` (``inf`` for ``n = 1``)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("inf")


def deprecated_alias(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn (``DeprecationWarning``) that the attribute ``old`` is now ``new``; one release of grace."""
    warnings.warn(f"{old} is deprecated and will be removed in the next release; use {new}", DeprecationWarning,
                  stacklevel=stacklevel)


class deprecated_property(property):  # noqa: N801 (named like the property it stands for)
    """A read-only attribute of the previous release: reading ``<Class>.<name>`` warns (:func:`deprecated_alias`) that
    it is now ``new`` and returns ``value(instance)``, by default the attribute at the dotted path ``new``
    (``bic_slack = deprecated_property("certificate.bic_slack")``). ``doc``: its docstring (default
    ``"Deprecated: ``new``."``)."""

    def __init__(self, new: str, value: Callable[[Any], Any] | None = None, doc: str | None = None):
        read = operator.attrgetter(new) if value is None else value

        def warn_and_read(instance):
            deprecated_alias(self.old, new)
            return read(instance)

        super().__init__(warn_and_read)
        # Set on the instance: a property subclass's doc= argument is lost before Python 3.12.
        self.__doc__ = doc or f"Deprecated: ``{new}``."
        self.old = new  # the class and name are known once the class is made (__set_name__)

    def __set_name__(self, owner: type, name: str) -> None:
        self.old = f"{owner.__name__}.{name}"


def agent_name(result) -> str:
    """The name of ``result.agent`` (e.g. ``"myopic"``): what the deprecated ``response_model`` returned."""
    return result.agent if isinstance(result.agent, str) else result.agent.name


@dataclass(frozen=True)
class Certificate:
    """The typed evidence that a result is what it claims; a field is ``None`` where it does not apply.

    Attributes:
        optimality_gap: certified bound on ``optimum - principal_value`` (0: proven optimal; ``inf``: unknown).
        optimum_bound: the upper bound on the optimum the gap is measured against (a MILP's dual bound, a search's
            ``T B max(lambda)``, the dynamic optimum for a simple rule), or ``None`` when not computed.
        incentive_margins: stateful game, ``(T,)``: per round, how much the worst option the agent uses beats the
            best one it does not, in its marginal values (``>= 0`` up to ties; ``inf`` if every option is used).
        min_slack: stateful game: the smallest strict incentive of the certifying membership LP (value units).
        agent_duality_gap: stateful game: certified bound on the agent's lost utility (0 for linear ``g``).
        bic_slack: persuasion: the smallest advantage of following a recommendation over the best alternative
            (posterior utility units; the sampled mechanism: its estimated ex-ante slack, see ``SignalingResult``).
        bic_slack_se: the standard error of ``bic_slack`` (0 when exact).
        bic_slack_bound: an upper confidence bound on an estimated ``bic_slack`` (``None`` when it is exact).
        epsilon: the BIC relaxation the scheme was built for (0 for exact BIC).
        tie_tol: utilities within this are ties (the tolerance of ``is_bic``).
    """

    optimality_gap: float = 0.0
    optimum_bound: float | None = None
    incentive_margins: np.ndarray | None = None
    min_slack: float | None = None
    agent_duality_gap: float | None = None
    bic_slack: float | None = None
    bic_slack_se: float = 0.0
    bic_slack_bound: float | None = None
    epsilon: float = 0.0
    tie_tol: float = TIE_TOL

    @property
    def is_optimal(self) -> bool:
        """Whether the value is proven optimal (``optimality_gap == 0``)."""
        return self.optimality_gap == 0.0

    @property
    def is_bic(self) -> bool:
        """Whether the scheme is (epsilon-)BIC: ``bic_slack >= -(epsilon + tie_tol)``, with ``bic_slack_bound`` in place
        of an estimated slack (a violation counts only when certain at the bound's level). ``ValueError`` when the
        certificate has no BIC slack (not a signaling result)."""
        if self.bic_slack is None:
            raise ValueError("this certificate has no BIC slack (it is not a signaling scheme's)")
        slack = self.bic_slack if self.bic_slack_bound is None else self.bic_slack_bound
        return bool(slack >= -(self.epsilon + self.tie_tol))

    def __getitem__(self, key: str):
        """Deprecated: the previous release's certificate was a dict; its evidence keys map to these fields, and its
        bookkeeping keys (``milp_status``, ``policies_checked``, ...) moved to the result's ``diagnostics``."""
        if key not in _OLD_KEYS:
            raise KeyError(f"{key!r} is not a certificate field any more: solver bookkeeping moved to the result's "
                           "diagnostics mapping")
        deprecated_alias(f"certificate[{key!r}]", f"certificate.{_OLD_KEYS[key]}")
        return getattr(self, _OLD_KEYS[key])


#: The previous release's certificate-dict keys that are typed fields now.
_OLD_KEYS = {"round_margins": "incentive_margins", "agent_duality_gap": "agent_duality_gap",
             "min_slack": "min_slack", "upper_bound": "optimum_bound", "milp_dual_bound": "optimum_bound"}


class PlayerValues:
    """Both players' values with standard errors: ``principal_value``, ``principal_se``, ``agent_value``, ``agent_se``
    (a mixin of the results and estimates, so every error bar follows one convention)."""

    def ci95(self, player: str = "principal") -> tuple[float, float]:
        """The 95% confidence interval of ``player``'s value (``"principal"`` or ``"agent"``): ``value ± Z95 se``."""
        if player not in ("principal", "agent"):
            raise ValueError(f"player must be 'principal' or 'agent', got {player!r}")
        return ci95(getattr(self, f"{player}_value"), getattr(self, f"{player}_se"))


@dataclass(frozen=True, kw_only=True)
class SolverResult(PlayerValues):
    """What every solver returns (see the module docstring's table); subclasses add the game's policy fields and name
    the one that is the ``policy`` in ``policy_field``.

    Attributes:
        principal_value, agent_value: the players' expected utilities.
        method: which solver produced it.
        solve_time: wall-clock seconds.
        certificate: the evidence (:class:`Certificate`).
        principal_se, agent_se: standard errors of the values (0 when exact).
        diagnostics: solver bookkeeping (status, node and LP counts), informative only.
    """

    principal_value: float
    agent_value: float
    method: str
    solve_time: float = 0.0
    certificate: Certificate = field(default_factory=Certificate)
    principal_se: float = 0.0
    agent_se: float = 0.0
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    #: The subclass's field holding the principal's policy (``"theta"``, ``"scheme"``).
    policy_field: ClassVar[str]

    @property
    def policy(self) -> np.ndarray:
        """The principal's policy: the field named by ``policy_field``."""
        return getattr(self, self.policy_field)

    @property
    def is_optimal(self) -> bool:
        """Whether ``principal_value`` is proven optimal (the certificate's gap is 0)."""
        return self.certificate.is_optimal


@dataclass(frozen=True, kw_only=True)
class StackelbergResult(SolverResult):
    """A stateful-game principal policy and the agent's response to it, re-checked before it is returned.

    Attributes (beyond :class:`SolverResult`'s):
        theta: ``(T, n)`` assessment policy (rows on the simplex): the ``policy``.
        effort: ``(T, d)`` the agent's induced effort policy (principal-favouring ties).
        agent: the agent's behaviour (:mod:`stratgym.games.behaviour`, e.g. ``Rational()``, ``Lookahead(1)``).

    ``principal_value`` is ``U_P = sum_t lambda . e_t`` and ``agent_value`` ``U_A = sum_t gamma^(t-1) y_t``.
    """

    theta: np.ndarray
    effort: np.ndarray
    agent: Any
    policy_field: ClassVar[str] = "theta"

    principal_utility = deprecated_property("principal_value")
    agent_utility = deprecated_property("agent_value")
    response_model = deprecated_property("agent", agent_name, "Deprecated: ``agent`` (this returns its name, e.g. "
                                                              "``\"myopic\"``).")
    optimality_gap = deprecated_property("certificate.optimality_gap")
