"""model.curves: learning curves [runs, T, K] as the detector's long table."""
import numpy as np
import pytest

from rayint_lib.model.curves import long_format


def test_long_format_labels_every_point_with_its_step_run_and_component():
    curves = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    steps = np.array([1, 10, 100])
    st, values, runs, comps = long_format(steps, curves)
    for i in range(values.size):
        r, t, k = runs[i], np.flatnonzero(steps == st[i])[0], comps[i]
        assert values[i] == curves[r, t, k]
    assert st.size == runs.size == comps.size == 24


def test_long_format_without_components_and_bad_shapes():
    st, values, runs, comps = long_format([1, 2], np.array([[0.1, 0.2], [0.3, 0.4]]))
    assert comps is None and runs.tolist() == [0, 0, 1, 1] and st.tolist() == [1, 2, 1, 2]
    with pytest.raises(ValueError, match="steps"):
        long_format([1, 2, 3], np.zeros((2, 2, 2)))
