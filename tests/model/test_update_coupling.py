"""f read off each learner's expected update in the bandit equals the Fig. 6 expressions."""
import numpy as np

from rayint_lib.model import factored as F
from rayint_lib.model.update_coupling import coupling_from_updates


def test_coupling_read_off_the_update_rule():
    u = np.linspace(0.01, 0.99, 9)
    kw = {"n_actions": 3, "mix_fraction": 0.2}
    np.testing.assert_allclose(coupling_from_updates("on_policy", u, **kw), u * (1 - u))
    np.testing.assert_allclose(coupling_from_updates("supervised", u, **kw), 1 - u)
    mix = F.coupling("mixture", alpha=0.2, n_actions=3)
    np.testing.assert_allclose(coupling_from_updates("mixture", u, **kw), mix(u), atol=1e-12)
    # f(0) of the mixture is alpha / n
    assert abs(coupling_from_updates("mixture", 1e-9, **kw)[0] - 0.2 / 3) < 1e-6
    assert abs(coupling_from_updates("mixture", 1e-9, n_actions=2, mix_fraction=0.2)[0]
               - 0.1) < 1e-6
