"""The input–output core and the Fab City Index against published oracles and an independent library."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabcity.measure import io
from fabcity.measure.fci import fab_city_index

Z = [[150, 500], [200, 100]]
F = [350, 1700]
HAMBURG_TABLE = Path(__file__).with_name("data") / "fabcity-boeing2024-hamburg" / "boeing2024.json"


def test_miller_and_blair_two_sector_example():
    x = io.total_output(Z, F)
    assert x.tolist() == [1000, 2000]
    a = io.technical_coefficients(Z, x)
    assert np.allclose(a, [[0.15, 0.25], [0.20, 0.05]])
    assert np.linalg.det(np.eye(2) - a) == pytest.approx(float(Fraction(303, 400)))
    inverse = io.leontief_inverse(a)
    exact = [[Fraction(380, 303), Fraction(100, 303)], [Fraction(80, 303), Fraction(340, 303)]]
    assert np.allclose(inverse, [[float(v) for v in row] for row in exact], atol=1e-12)
    assert np.round(io.output_multipliers(inverse), 4).tolist() == [1.5182, 1.4521]
    assert np.round(io.output_for_demand(a, [600, 1500]), 2).tolist() == [1247.52, 1841.58]


def test_the_core_agrees_with_pymrio_on_its_test_system():
    import pymrio  # a test dependency only (LGPL-3.0): the independent implementation to agree with

    system = pymrio.load_test().calc_all()
    final_demand = system.Y.sum(axis=1).to_numpy()
    x = io.total_output(system.Z.to_numpy(), final_demand)
    a = io.technical_coefficients(system.Z.to_numpy(), x)
    inverse = io.leontief_inverse(a)
    assert np.allclose(x, system.x.to_numpy().ravel(), rtol=1e-10)
    assert np.max(np.abs(a - system.A.to_numpy())) < 1e-12
    assert np.max(np.abs(inverse - system.L.to_numpy())) < 1e-9


def test_bad_tables_are_refused_with_the_cell_named():
    with pytest.raises(io.MeasureError, match=r"Z\[0,1\] is negative"):
        io.total_output([[1, -2], [3, 4]], [1, 1])
    with pytest.raises(io.MeasureError, match="A column 1 sums to 1"):
        io.leontief_inverse([[0.2, 0.5], [0.3, 0.5]])
    with pytest.raises(io.MeasureError, match=r"regional\[1\] \(9\) exceeds national\[1\] \(5\)"):
        io.slq([1, 9], [10, 5])
    with pytest.raises(io.MeasureError, match="delta"):
        io.flq_scale([1, 2], [10, 20], delta=1.0)


REGIONAL = [30, 5, 10]
NATIONAL = [100, 200, 50]


def test_location_quotients_by_hand():
    # TRE/TNE = 45/350; SLQ_i = (E^r_i / E^n_i) / (TRE/TNE)
    share = 45 / 350
    expected = [0.3 / share, 0.025 / share, 0.2 / share]
    assert np.allclose(io.slq(REGIONAL, NATIONAL), expected)
    cilq = io.cilq(REGIONAL, NATIONAL)
    assert cilq[0, 1] == pytest.approx(expected[0] / expected[1])
    assert cilq[1, 1] == pytest.approx(expected[1])  # Smith–Morrison diagonal
    assert io.cilq(REGIONAL, NATIONAL, diagonal="one")[1, 1] == 1
    scale = np.log2(1 + share) ** 0.3
    assert io.flq(REGIONAL, NATIONAL)[0, 1] == pytest.approx(scale * expected[0] / expected[1])
    aflq = io.aflq(REGIONAL, NATIONAL)
    assert aflq[1, 0] == pytest.approx(scale * expected[1] / expected[0] * np.log2(1 + expected[0]))  # SLQ_0 > 1
    assert aflq[0, 1] == pytest.approx(scale * expected[0] / expected[1])  # SLQ_1 < 1: no boost


def test_a_sector_the_nation_lacks_has_no_quotient_and_buys_nothing_locally():
    quotients = io.slq([1, 0], [10, 0])
    assert np.isnan(quotients[1])
    assert io.regionalise([[0.1, 0.2], [0.3, 0.1]], quotients)[1].tolist() == [0.0, 0.0]


national_tables = st.integers(2, 5).flatmap(
    lambda n: st.tuples(
        st.lists(st.lists(st.floats(0, 1), min_size=n, max_size=n), min_size=n, max_size=n),
        st.lists(st.floats(1, 1000), min_size=n, max_size=n),
        st.lists(st.floats(0.01, 1), min_size=n, max_size=n),
        st.floats(0, 0.99),
    )
)


@settings(max_examples=60, deadline=None)
@given(national_tables)
def test_regional_multipliers_never_exceed_the_national_ones_and_flq_stays_below_cilq(case):
    raw, national, fractions, delta = case
    a = np.asarray(raw) / (np.asarray(raw).sum(axis=0) + 1.0) * 0.9  # columns sum below 1
    regional = np.asarray(national) * np.asarray(fractions) * 0.5
    national_multipliers = io.output_multipliers(io.leontief_inverse(a))
    for quotients in (
        io.slq(regional, national), io.cilq(regional, national), io.flq(regional, national, delta),
        io.aflq(regional, national, delta),
    ):  # fmt: skip
        multipliers = io.output_multipliers(io.leontief_inverse(io.regionalise(a, quotients)))
        assert (multipliers <= national_multipliers + 1e-9).all()
    assert (io.flq(regional, national, delta) <= io.cilq(regional, national) + 1e-12).all()


def _index(*rows):
    """fab_city_index from (sector, production, demand, weight) rows."""
    names, production, demand, weights = zip(*rows, strict=True)
    return fab_city_index(names, production, demand, weights)


def _hamburg() -> tuple[list[tuple], float]:
    """Boeing's (2024) Hamburg 2019 sector table and the index he published from it."""
    table = json.loads(HAMBURG_TABLE.read_text(encoding="utf-8"))
    sectors = [
        (s["sector"], s["ratio"], 1.0, s["weight_cpi"] if s["weight_cpi"] is not None else s["weight_estimate"])
        for s in table["sectors"]
    ]
    return sectors, table["published_index"]


def test_boeing_hamburg_2019():
    sectors, published = _hamburg()
    index = _index(*sectors)
    assert index.kind == "capacity" and round(index.value, 4) == 37.3005 and round(index.value) == published
    assert index.coverage == 1.0 and index.gap_to_pledge == pytest.approx(50 - 37.3005, abs=1e-4)


def test_index_edge_cases():
    index = _index(
        ("food", 30, 60, 2),  # 0.5
        ("machines", 900, 100, 1),  # capped at 1 before summing
        ("ships", 50, 0, 5),  # exports only: dropped, never a free 100
        ("nothing", 0, 0, 1),  # no activity: dropped
        ("clothes", 0, 40, 1),  # demand and no production: 0
        ("energy", None, 10, 3),  # missing stays missing
    )
    assert index.value == pytest.approx(100 * (2 * 0.5 + 1 * 1.0 + 1 * 0.0) / 4)
    assert index.coverage == pytest.approx(4 / 13)
    statuses = {s.sector: s.status for s in index.sectors}
    assert statuses == {
        "food": "included", "machines": "included", "ships": "export_only", "nothing": "no_activity",
        "clothes": "included", "energy": "missing",
    }  # fmt: skip
    assert next(s for s in index.sectors if s.sector == "machines").raw_ratio == 9.0
    assert _index(("energy", None, 1, 1)).value is None
    assert _index(("zero weight", 1, 1, 0)).value is None
    with pytest.raises(io.MeasureError, match="sector 'food': demand is -1"):
        _index(("food", 1, -1, 1))
