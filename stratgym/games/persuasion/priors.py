"""Priors over the assessment rule ``theta``: Gaussian, finite support, or any sampler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

# values_equal and fields_equal were defined here: they stay importable from this module.
from stratgym.games.fields import FieldwiseEqual, axis_length, fields_equal, values_equal  # noqa: F401
from stratgym.games.validation import as_positive_int, as_real_array, check_range


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``; raise ``ValueError`` naming ``name`` otherwise."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
                         f"got {type(rng).__name__}")
    return rng


def as_vector(value, name: str) -> np.ndarray:
    """``value`` as a real array of shape ``(m,)`` with ``m >= 1``; ``ValueError`` naming ``name`` otherwise."""
    array = as_real_array(value, name, ndim=1)
    if array.shape[0] < 1:
        raise ValueError(f"{name} must have at least one entry")
    return array


class _Sampled(FieldwiseEqual):
    """What the priors share: :meth:`sample` around each prior's ``_draw(rng, count) -> (count, m)``."""

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray:
        """Draw rules from ``rng``: shape ``(size, m)``, or ``(m,)`` when ``size`` is ``None``."""
        check_rng(rng)
        theta = self._draw(rng, 1 if size is None else as_positive_int(size, "size"))
        return theta[0] if size is None else theta


# ---------------------------------------------------------------------------------------------
# Priors
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class GaussianPrior(_Sampled):
    """Gaussian prior ``N(mean, covariance)`` over rules ``theta`` in ``R^m``, validated at construction.

    Attributes:
        mean: ``mu``, shape ``(m,)``.
        covariance: ``sigma^2 > 0`` (isotropic ``sigma^2 I``) or a symmetric positive semi-definite
            ``(m, m)`` matrix; a singular one puts the prior on ``mu + range(covariance)``. Stored as
            the full ``(m, m)`` matrix.
        factor: ``L``, shape ``(m, r)`` with ``L L^T = covariance`` and ``r`` its rank (eigenvalues below
            ``1e-12`` times the largest count as zero); ``theta = mu + L z`` with ``z ~ N(0, I_r)``.
    """

    mean: np.ndarray
    covariance: float | np.ndarray = 1.0
    factor: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        mean = as_vector(self.mean, "mean (mu)")
        m = mean.shape[0]
        if np.ndim(self.covariance) == 0:
            variance = as_real_array(self.covariance, "covariance (sigma^2)", shape=())
            check_range(variance, "covariance (sigma^2)", low=0.0, low_open=True)
            covariance = float(variance) * np.eye(m)
        else:
            covariance = as_real_array(self.covariance, "covariance", shape=(m, m))
            scale = max(1.0, float(np.abs(covariance).max()))
            if not np.allclose(covariance, covariance.T, rtol=0.0, atol=1e-12 * scale):
                raise ValueError("covariance must be a symmetric (m, m) matrix")
        eigenvalues, vectors = np.linalg.eigh((covariance + covariance.T) / 2.0)
        if eigenvalues.max() <= 0.0:
            raise ValueError("covariance must be non-zero (a point mass is a FiniteSupportPrior with one atom)")
        if eigenvalues.min() < -1e-10 * eigenvalues.max():
            raise ValueError(f"covariance must be positive semi-definite, got eigenvalue {eigenvalues.min():.3g}")
        keep = eigenvalues > 1e-12 * eigenvalues.max()
        factor = vectors[:, keep] * np.sqrt(eigenvalues[keep])
        covariance = np.array(covariance)
        for array in (covariance, factor):
            array.setflags(write=False)
        set_("mean", mean)
        set_("covariance", covariance)
        set_("factor", factor)

    dimension = axis_length("mean", 0, "``m``, the dimension of ``theta``.")

    def _draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return self.mean + rng.standard_normal((count, self.factor.shape[1])) @ self.factor.T


@dataclass(frozen=True, eq=False)
class FiniteSupportPrior(_Sampled):
    """A prior on finitely many rules, validated at construction.

    Attributes:
        atoms: the rules, shape ``(n, m)``.
        probabilities: shape ``(n,)``, ``>= 0``, summing to 1 within ``1e-9`` (then renormalized);
            ``None`` means uniform.
    """

    atoms: np.ndarray
    probabilities: np.ndarray | None = None

    def __post_init__(self):
        atoms = as_real_array(self.atoms, "atoms", ndim=2)
        if atoms.shape[0] < 1 or atoms.shape[1] < 1:
            raise ValueError(f"atoms must have shape (n, m) with n, m >= 1, got {atoms.shape}")
        n = atoms.shape[0]
        raw = np.full(n, 1.0 / n) if self.probabilities is None else self.probabilities
        probabilities = np.array(as_real_array(raw, "probabilities", shape=(n,)))
        check_range(probabilities, "probabilities", low=0.0)
        if abs(probabilities.sum() - 1.0) > 1e-9:
            raise ValueError(f"probabilities must sum to 1, got sum {probabilities.sum():.12g}")
        probabilities /= probabilities.sum()
        probabilities.setflags(write=False)
        object.__setattr__(self, "atoms", atoms)
        object.__setattr__(self, "probabilities", probabilities)

    dimension = axis_length("atoms", 1, "``m``, the dimension of ``theta``.")

    def _draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return self.atoms[rng.choice(self.atoms.shape[0], size=count, p=self.probabilities)]


@dataclass(frozen=True, eq=False)
class SamplerPrior(_Sampled):
    """Any prior, given by a sampler; validated at construction with one probe draw from ``default_rng(0)``.

    Attributes:
        sampler: a callable ``sampler(rng, n)`` returning ``n`` rules as an ``(n, m)`` array, drawn with the
            ``numpy.random.Generator`` ``rng`` only (so draws are seeded). Envs are pickled with their game, so
            for them it must be picklable: a module-level function or class instance, not a lambda or closure.
        dimension: ``m``, the dimension of ``theta``.

    Region masses under a sampler are Monte Carlo estimates only (``mass_method == "monte-carlo"``); its regions
    are the full-dimensional cells of the arrangement ``theta . (x_0 + Delta(a)) = 0`` in ``R^m`` (see
    :func:`enumerate_regions`), so a sampler that puts positive probability on a decision boundary is not
    supported (:func:`region_masses` raises ``RuntimeError`` on such a draw).
    """

    sampler: Callable[[np.random.Generator, int], np.ndarray]
    dimension: int

    def __post_init__(self):
        if not callable(self.sampler):
            raise ValueError(f"sampler must be a callable sampler(rng, n) -> (n, m) array, got {self.sampler!r}")
        object.__setattr__(self, "dimension", as_positive_int(self.dimension, "dimension"))
        self.sample(np.random.default_rng(0), 2)

    def _draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return as_real_array(self.sampler(rng, count), "sampler(rng, n)", shape=(count, self.dimension))


Prior = GaussianPrior | FiniteSupportPrior | SamplerPrior
