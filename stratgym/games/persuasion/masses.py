"""Prior masses of regions: exact sums over atoms, Gaussian orthant integrals, or Monte Carlo counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import multivariate_normal

try:  # scipy's private integrator behind multivariate_normal.cdf; unlike the cdf it returns its error estimate
    from scipy.stats._qmvnt import _qauto, _qmvn
except ImportError:  # a scipy that moved it: the public cdf, with its requested tolerance as the error bound
    _qauto = _qmvn = None

from stratgym.games.persuasion.model import PersuasionGame, decision_patterns
from stratgym.games.persuasion.priors import FiniteSupportPrior, GaussianPrior, check_rng
from stratgym.games.validation import as_nonnegative_float, as_positive_int, check_instance

#: Names of the region-mass methods: exact sum over atoms, Gaussian orthant integration, Monte Carlo.
MASS_METHODS = ("finite-sum", "orthant", "monte-carlo")


@dataclass(frozen=True)
class RegionMasses:
    """Prior probabilities of regions and how they were obtained.

    Attributes:
        masses: ``(R,)`` probabilities in ``[0, 1]`` summing to 1 (up to rounding).
        errors: ``(R,)`` absolute error estimates, about 3 standard errors: 0 for ``finite-sum``;
            for ``monte-carlo`` ``3 sqrt(max(p (1 - p), 1/N) / N)`` (the flooring gives the "rule of three"
            ``3/N`` for regions no sample hit); for ``orthant`` scipy's randomized-QMC estimates ``e_r``
            (``1e-15`` in dimension <= 2, where it is a closed form) of the integrals ``m_r``, carried through
            their clipping to ``[0, 1]`` and renormalization by ``S = sum_r m_r``: as ``|S - 1| <= E = sum_r e_r``,
            the renormalized mass is off by at most ``(e_r + min(1, m_r + e_r) E) / S``.
        method: one of ``MASS_METHODS``.
        n_samples: Monte Carlo sample size (0 for the other methods).
    """

    masses: np.ndarray
    errors: np.ndarray
    method: str
    n_samples: int = 0


def region_masses(game: PersuasionGame, patterns, method: str = "auto", rng: np.random.Generator | None = None,
                  n_samples: int = 100_000, abseps: float = 1e-6) -> RegionMasses:
    """Prior mass of each region ``patterns`` ``(R, A)``.

    ``method``:
      * ``"auto"``: exact when possible (``finite-sum`` or ``orthant``), ``monte-carlo`` otherwise;
      * ``"exact"``: as auto, but ``ValueError`` when no exact method applies;
      * a name of ``MASS_METHODS`` asks for that method (``ValueError`` if it does not apply); ``"monte-carlo"``:
        ``n_samples`` rules from the prior, counted per pattern (the only method for a :class:`SamplerPrior`).

    Gaussian ``orthant``: ``v = X theta ~ N(X mu, X Sigma X^T)`` and a region is an orthant of ``v``
    (signs flipped by the pattern). Coordinates of ``v`` with zero variance are deterministic, and
    coordinates that are exact multiples of another on the prior's support (e.g. two actions with the
    same features) share or flip its sign: patterns are checked against both. The remaining coordinates
    are integrated with scipy's Genz randomized-QMC multivariate normal integrator to absolute error
    ``abseps`` (``> 0``), which needs their covariance non-singular (typically ``A <= rank(Sigma)``; with
    more actions than dimensions ``v`` is degenerate and ``auto`` falls back to Monte Carlo). The integrals
    are then renormalized to sum to 1 (see :class:`RegionMasses` for the error this adds).

    ``rng`` drives the QMC shifts and the Monte Carlo draws; ``None`` means a fixed
    ``np.random.default_rng(0)`` so repeated calls agree. A Monte Carlo draw whose pattern is not in
    ``patterns`` raises ``RuntimeError`` (the regions were not enumerated completely).
    """
    chosen, rng, n_samples, abseps = mass_arguments(game, method, rng, n_samples, abseps)
    patterns = np.asarray(patterns, dtype=bool)
    if patterns.ndim != 2 or patterns.shape[1] != game.n_actions:
        raise ValueError(f"patterns must have shape (R, {game.n_actions}), got {patterns.shape}")
    if chosen == "finite-sum":
        return _finite_masses(game, patterns)
    if chosen == "orthant":
        return _orthant_masses(patterns, _sign_structure(game), rng, abseps)
    counts = np.zeros(patterns.shape[0])
    chunk = 50_000
    for start in range(0, n_samples, chunk):
        located = locate_patterns(patterns, decision_patterns(game, game.prior.sample(rng, min(chunk, n_samples - start))))
        if np.any(located < 0):
            raise RuntimeError("a prior draw fell in a region that is not among patterns: enumerate the regions "
                               "with enumerate_regions (or a smaller tol) before estimating masses")
        counts += np.bincount(located, minlength=patterns.shape[0])
    masses = counts / n_samples
    errors = 3.0 * np.sqrt(np.maximum(masses * (1.0 - masses), 1.0 / n_samples) / n_samples)
    return RegionMasses(masses, errors, "monte-carlo", n_samples)


def mass_arguments(game, method, rng, n_samples, abseps) -> tuple[str, np.random.Generator, int, float]:
    """:func:`region_masses`' checks, all made before any work (also by :func:`equivalence_regions`, ahead of the
    enumeration): the method chosen, the rng (``None``: ``default_rng(0)``), ``n_samples`` and ``abseps``."""
    check_instance(game, PersuasionGame, "game")
    if method not in ("auto", "exact", *MASS_METHODS):
        raise ValueError(f"method must be 'auto', 'exact' or one of {MASS_METHODS}, got {method!r}")
    abseps = as_nonnegative_float(abseps, "abseps", positive=True)
    n_samples = as_positive_int(n_samples, "n_samples")  # even when unused, so a bad value never passes silently
    rng = np.random.default_rng(0) if rng is None else check_rng(rng)
    available = _exact_mass_method(game)
    chosen = {"auto": available or "monte-carlo", "exact": available}.get(method, method)
    if chosen not in ("monte-carlo", available) or chosen is None:
        allowed = " or ".join(repr(name) for name in (available, "monte-carlo") if name)
        raise ValueError(f"method={method!r} does not apply to this game: 'finite-sum' needs a finite-support prior, "
                         f"'orthant' a Gaussian prior with a non-degenerate covariance of X theta (more actions than "
                         f"prior dimensions make it singular); use 'auto' or {allowed}")
    return chosen, rng, n_samples, abseps


def _exact_mass_method(game: PersuasionGame) -> str | None:
    """The exact mass method that applies to ``game`` (``"finite-sum"`` or ``"orthant"``), or ``None``."""
    if isinstance(game.prior, FiniteSupportPrior):
        return "finite-sum"
    if isinstance(game.prior, GaussianPrior) and _orthant_applicable(_sign_structure(game)):
        return "orthant"
    return None


def _finite_masses(game: PersuasionGame, patterns: np.ndarray) -> RegionMasses:
    located = locate_patterns(patterns, decision_patterns(game, game.prior.atoms))
    positive = game.prior.probabilities > 0
    if np.any(located[positive] < 0):
        raise RuntimeError("an atom of the prior has a pattern that is not among patterns")
    masses = np.bincount(located[positive], weights=game.prior.probabilities[positive], minlength=patterns.shape[0])
    return RegionMasses(np.clip(masses, 0.0, 1.0), np.zeros(patterns.shape[0]), "finite-sum")


@dataclass(frozen=True)
class _SignStructure:
    """How the signs of ``v = X theta`` are tied: ``v_a`` is deterministic (``fixed``, sign ``v_a >= 0`` given
    by ``positive``) or ``v_a = c_a v_r`` with ``r = representative[a]`` and ``c_a < 0`` iff ``flipped[a]``."""

    fixed: np.ndarray
    positive: np.ndarray
    representative: np.ndarray
    flipped: np.ndarray
    representatives: np.ndarray
    mean: np.ndarray
    covariance: np.ndarray


def _sign_structure(game: PersuasionGame) -> _SignStructure:
    X, prior = game.action_features, game.prior
    random_part, mean = X @ prior.factor, X @ prior.mean
    variances = np.sum(random_part**2, axis=1)
    fixed = variances <= 1e-12 * max(variances.max(), 1e-300)
    # Rows of (X L, X mu) that are (anti-)parallel give v's that are exact multiples of each other.
    rows = np.hstack([random_part, mean[:, None]])
    units = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-300)
    representative, flipped, representatives = np.arange(X.shape[0]), np.zeros(X.shape[0], dtype=bool), []
    for a in np.flatnonzero(~fixed):
        for r in representatives:
            for flip, sign in ((False, 1.0), (True, -1.0)):
                if np.allclose(units[a], sign * units[r], rtol=0.0, atol=1e-12):
                    representative[a], flipped[a] = r, flip
                    break
            if representative[a] != a:
                break
        else:
            representatives.append(a)
    representatives = np.array(representatives, dtype=np.int64)
    covariance = random_part[representatives] @ random_part[representatives].T
    return _SignStructure(fixed, mean >= 0.0, representative, flipped, representatives, mean, covariance)


def _orthant_applicable(structure: _SignStructure) -> bool:
    if structure.representatives.size == 0:
        return True
    eigenvalues = np.linalg.eigvalsh(structure.covariance)
    return bool(eigenvalues.min() > 1e-10 * eigenvalues.max())


def _orthant_masses(patterns: np.ndarray, structure: _SignStructure, rng: np.random.Generator,
                    abseps: float) -> RegionMasses:
    masses, errors = np.zeros(patterns.shape[0]), np.zeros(patterns.shape[0])
    tied = ~structure.fixed
    reps = structure.representatives
    for r, pattern in enumerate(patterns):
        if np.any(pattern[structure.fixed] != structure.positive[structure.fixed]):
            continue
        if np.any(pattern[tied] != (pattern[structure.representative[tied]] ^ structure.flipped[tied])):
            continue
        if reps.size == 0:
            masses[r] = 1.0
            continue
        # P(D v >= 0) with D = diag(2 s - 1) is P(u <= D mean) for u ~ N(0, D C D): a CDF at a point.
        signs = np.where(pattern[reps], 1.0, -1.0)
        upper = signs * structure.mean[reps]
        covariance = structure.covariance * np.outer(signs, signs)
        if _qauto is None:
            probability, error = multivariate_normal.cdf(upper, cov=covariance, abseps=abseps, rng=rng), abseps
        else:
            probability, error, _ = _qauto(_qmvn, covariance, np.full(upper.shape, -np.inf), upper, rng,
                                           error=abseps, limit=1_000_000 * upper.size, n_batches=10)
        masses[r], errors[r] = float(np.squeeze(probability)), float(error)
    # Clipping only moves an integral towards its true value (in [0, 1]), so the errors still hold.
    masses = np.clip(masses, 0.0, 1.0)
    total = masses.sum()
    if not total > 0:
        raise RuntimeError("the orthant integrals of the regions sum to 0: the regions miss the prior's mass")
    errors = (errors + np.minimum(masses + errors, 1.0) * errors.sum()) / total
    return RegionMasses(masses / total, errors, "orthant")


def _pattern_keys(patterns: np.ndarray) -> np.ndarray:
    """Pack boolean rows ``(N, A)`` into 64-bit words: ``(N,)`` when ``A <= 64`` (fast 1-d sorting), else ``(N, W)``."""
    packed = np.packbits(patterns, axis=1)
    width = -(-packed.shape[1] // 8) * 8
    words = np.zeros((packed.shape[0], width), dtype=np.uint8)
    words[:, :packed.shape[1]] = packed
    keys = words.view(np.uint64)
    return keys[:, 0] if keys.shape[1] == 1 else keys


def locate_patterns(table, patterns) -> np.ndarray:
    """Row indices in ``table`` ``(R, A)`` of each of ``patterns`` ``(N, A)``; ``-1`` where absent."""
    table = np.asarray(table, dtype=bool)
    patterns = np.asarray(patterns, dtype=bool).reshape(-1, table.shape[1])
    keys = _pattern_keys(np.vstack([table, patterns]))
    _, inverse = np.unique(keys, axis=0 if keys.ndim == 2 else None, return_inverse=True)
    inverse = inverse.reshape(-1)
    rows = np.full(inverse.max(initial=-1) + 1, -1, dtype=np.int64)
    rows[inverse[:table.shape[0]][::-1]] = np.arange(table.shape[0])[::-1]  # first row wins on duplicates
    return rows[inverse[table.shape[0]:]]
