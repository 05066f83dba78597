"""A 2-D map of embeddings: principal component analysis with numpy.

The rows are scaled to unit length (the geometry ml.similarity searches in),
centred, and projected on the two leading eigenvectors of their covariance
(``numpy.linalg.eigh`` of the d x d matrix: O(n d²), about a second for
100,000 x 256). With more than ``max_fit`` rows the axes are fitted on a
seeded sample of them and every row is projected; each axis's sign is fixed
(its largest loading is positive), so the same input always draws the same
map.

Why not t-SNE or UMAP: they need new dependencies (scikit-learn, or
umap-learn with numba), are stochastic and slow at 100k points, and cannot
place a new item on an existing map without refitting; PCA can
(:meth:`Projection.transform`), so the map stays put as items arrive. Its
distances are honest (linear), at the price of crowding clusters that only a
non-linear map would pull apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.similarity import unit_rows

MAX_FIT = 20_000


@dataclass(frozen=True, eq=False)
class Projection:
    """``coords`` (n x 2) of the fitted rows; ``mean`` and ``components``
    (2 x d) project new rows; ``explained`` is each axis's share of the
    variance."""

    coords: np.ndarray
    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray

    def transform(self, embeddings: np.ndarray) -> np.ndarray:
        """Coordinates of new rows on this map."""
        x = unit_rows(embeddings, np.float64)
        if x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"embeddings must have {self.mean.shape[0]} values")
        return (x - self.mean) @ self.components.T


def project_2d(
    embeddings: np.ndarray, *, seed: int = 0, max_fit: int = MAX_FIT
) -> Projection:
    """The PCA map of ``embeddings`` (module docstring). Fewer than 2 rows or
    dimensions give zero coordinates on the missing axes. Raises ValueError
    for input that is not a finite 2-D array."""
    x = unit_rows(embeddings, np.float64)
    n, d = x.shape
    fit = x
    if n > max_fit:
        rows = np.random.default_rng(seed).choice(n, size=max_fit, replace=False)
        fit = x[np.sort(rows)]
    mean = fit.mean(axis=0) if n else np.zeros(d)
    components = np.zeros((2, d))
    explained = np.zeros(2)
    if fit.shape[0] >= 2 and d >= 1:
        centred = fit - mean
        cov = centred.T @ centred / (fit.shape[0] - 1)
        values, vectors = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1][:2]
        total = float(values.clip(min=0).sum())
        for axis, j in enumerate(order):
            v = vectors[:, j]
            if v[np.argmax(np.abs(v))] < 0:
                v = -v
            components[axis] = v
            if total > 0:
                explained[axis] = max(float(values[j]), 0.0) / total
    coords = (x - mean) @ components.T if n else np.zeros((0, 2))
    return Projection(coords, mean, components, explained)
