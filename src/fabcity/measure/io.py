"""Input–output core: Leontief quantities and regionalising a national table with location quotients.

Notation (Miller & Blair 2009): Z intermediate flows (n×n, z_ij from sector i to sector j), f final
demand, x = Z·1 + f total output, A = Z·diag(x)⁻¹, L = (I − A)⁻¹. A regional table is estimated from
the national one as a^r_ij = a^n_ij · min(1, LQ_ij) with one of the location quotients below, from
regional and national employment (or business counts) by sector. Sources and formulas:
docs/research/index.md §2 (Flegg & Webber 1997, 2000; Flegg & Tohmo 2013).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Diagonal = Literal["slq", "one"]


class MeasureError(ValueError):
    """Input that cannot be measured; the message names the cell or sector."""


def _matrix(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise MeasureError(f"{name}: expected a square matrix, got shape {array.shape}")
    return array


def _vector(values, name: str, size: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or (size is not None and array.shape[0] != size):
        raise MeasureError(f"{name}: expected {size or 'a'} values in one row, got shape {array.shape}")
    return array


def _no_negatives(array: np.ndarray, name: str) -> None:
    bad = np.argwhere(array < 0)
    if len(bad):
        cell = ",".join(str(int(i)) for i in bad[0])
        raise MeasureError(f"{name}[{cell}] is negative ({array[tuple(bad[0])]:g})")


def total_output(flows, final_demand) -> np.ndarray:
    """x = Z·1 + f."""
    z = _matrix(flows, "Z")
    f = _vector(final_demand, "f", z.shape[0])
    _no_negatives(z, "Z")
    return z.sum(axis=1) + f


def technical_coefficients(flows, output) -> np.ndarray:
    """A = Z·diag(x)⁻¹; a sector with no output buys nothing (its column is 0)."""
    z = _matrix(flows, "Z")
    x = _vector(output, "x", z.shape[0])
    _no_negatives(z, "Z")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, z / np.where(x > 0, x, 1.0), 0.0)


def leontief_inverse(coefficients) -> np.ndarray:
    """L = (I − A)⁻¹, solved rather than inverted; A must be non-negative with column sums below 1."""
    a = _matrix(coefficients, "A")
    _no_negatives(a, "A")
    sums = a.sum(axis=0)
    if (sums >= 1).any():
        column = int(np.argmax(sums >= 1))
        raise MeasureError(f"A column {column} sums to {sums[column]:g}: a sector must buy less than it makes")
    return np.linalg.solve(np.eye(len(a)) - a, np.eye(len(a)))


def output_multipliers(inverse) -> np.ndarray:
    """m_j = Σ_i L_ij: output across the economy per unit of final demand for sector j."""
    return _matrix(inverse, "L").sum(axis=0)


def output_for_demand(coefficients, final_demand) -> np.ndarray:
    """x = (I − A)⁻¹ f, by solving the system."""
    a = _matrix(coefficients, "A")
    f = _vector(final_demand, "f", len(a))
    leontief_inverse(a)  # the same checks
    return np.linalg.solve(np.eye(len(a)) - a, f)


def _shares(regional, national) -> tuple[np.ndarray, np.ndarray, float]:
    e_r = _vector(regional, "regional", None)
    e_n = _vector(national, "national", len(e_r))
    _no_negatives(e_r, "regional")
    _no_negatives(e_n, "national")
    if (e_r > e_n).any():
        sector = int(np.argmax(e_r > e_n))
        raise MeasureError(f"regional[{sector}] ({e_r[sector]:g}) exceeds national[{sector}] ({e_n[sector]:g})")
    if e_n.sum() <= 0 or e_r.sum() <= 0:
        raise MeasureError("regional and national totals must be more than 0")
    return e_r, e_n, e_r.sum() / e_n.sum()


def slq(regional, national) -> np.ndarray:
    """SLQ_i = (E^r_i / TRE) / (E^n_i / TNE); NaN where the nation has none of sector i."""
    e_r, e_n, share = _shares(regional, national)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e_n > 0, (e_r / e_n) / share, np.nan)


def cilq(regional, national, diagonal: Diagonal = "slq") -> np.ndarray:
    """CILQ_ij = SLQ_i / SLQ_j; the diagonal is SLQ_i (Smith–Morrison) or 1."""
    quotients = slq(regional, national)
    with np.errstate(divide="ignore", invalid="ignore"):
        matrix = quotients[:, None] / quotients[None, :]
    np.fill_diagonal(matrix, quotients if diagonal == "slq" else 1.0)
    return matrix


def flq_scale(regional, national, delta: float = 0.3) -> float:
    """λ* = [log₂(1 + TRE/TNE)]^δ: smaller regions import more."""
    if not 0 <= delta < 1:
        raise MeasureError(f"delta must be in [0, 1), got {delta:g}")
    _, _, share = _shares(regional, national)
    return float(np.log2(1 + share) ** delta)


def flq(regional, national, delta: float = 0.3, diagonal: Diagonal = "slq") -> np.ndarray:
    """FLQ_ij = λ*·CILQ_ij, with FLQ_ii = λ*·SLQ_i (or λ* with the other convention)."""
    return flq_scale(regional, national, delta) * cilq(regional, national, diagonal)


def aflq(regional, national, delta: float = 0.3, diagonal: Diagonal = "slq") -> np.ndarray:
    """AFLQ_ij = FLQ_ij · log₂(1 + SLQ_j) where SLQ_j > 1 (a specialised buying sector buys more locally)."""
    quotients = slq(regional, national)
    boost = np.where(quotients > 1, np.log2(1 + np.nan_to_num(quotients)), 1.0)
    return flq(regional, national, delta, diagonal) * boost[None, :]


def regionalise(national_coefficients, quotients) -> np.ndarray:
    """a^r_ij = a^n_ij · min(1, LQ): quotients per row (SLQ) or per cell (CILQ, FLQ, AFLQ); NaN → 0."""
    a = _matrix(national_coefficients, "A")
    lq = np.asarray(quotients, dtype=float)
    lq = lq[:, None] if lq.ndim == 1 else lq
    if lq.shape[0] != a.shape[0] or lq.shape[1] not in (1, a.shape[1]):
        raise MeasureError(f"quotients of shape {np.shape(quotients)} do not fit A of shape {a.shape}")
    return a * np.minimum(1.0, np.nan_to_num(lq, nan=0.0))
