"""Each remedy's update against a hand computation on a tiny bandit (rayint_lib.model.remedies)."""
import numpy as np
import pytest

from rayint_lib.model import remedies as rm
from rayint_lib.model import remedy_kernel as rk
from rayint_lib.model import remedy_rules as rr
from rayint_lib.model.bandit import softmax
from rayint_lib.model.remedies_reference import run_rule_reference
from rayint_lib.model.updates import expected_progress_rate

L = np.array([[0.3, -0.2, 0.5], [1.2, -0.7, 0.1]])       # K = 2 contexts, n = 3 arms
K, N = L.shape


def state(kind, **kw):
    m = rm.Method(kind, **kw)
    h = m.hyper()
    pi = np.empty((K, N))
    J = np.empty(K)
    rk.policy(rm.CODES[kind], L, h[rr.P], pi, J)
    return m, h, pi, J


def rule_state(J, a_norm=None, moments=None):
    """The rule state tuple of :func:`.remedy_kernel.initial_state` with chosen parts."""
    a_norm = np.ones(K) if a_norm is None else a_norm
    moments = np.zeros((2, K + 1, N)) if moments is None else moments
    return a_norm, moments, np.stack([J, J])


def scratch():
    return np.empty((K, N)), np.empty((K, K, N)), np.empty((K, N))


def direction(kind, s, t=1.0, order=None, a_norm=None, moments=None, commit=True, **kw):
    m, h, pi, J = state(kind, **kw)
    out = np.empty((K, N))
    rk.direction(rm.CODES[kind], h, L, pi, J, np.asarray(s, float), t,
                 np.arange(K) if order is None else np.asarray(order),
                 rule_state(J, a_norm, moments), commit, scratch(), out)
    return out, pi, J


def residual(pi):
    return np.eye(K, N) - pi


def shared(d):
    return d + d.sum(axis=0, keepdims=True)


def param_vectors(d):
    """Per-context gradients in the full (W, b) parameters: [K, K*N + N]."""
    G = np.zeros((K, K * N + N))
    for k in range(K):
        G[k, k * N:(k + 1) * N] = d[k]
        G[k, K * N:] = d[k]
    return G


def to_logits(theta):
    return theta[:K * N].reshape(K, N) + theta[K * N:]


def test_policy_is_the_softmax_and_J_the_right_arm():
    _, _, pi, J = state("reinforce")
    np.testing.assert_allclose(pi, softmax(L))
    np.testing.assert_allclose(J, np.diag(softmax(L)))


@pytest.mark.parametrize("s", [[1, 0], [0, 1], [1, 1], [0, 0]])
def test_reinforce_is_the_shared_bias_step(s):
    out, pi, _ = direction("reinforce", s)
    d = np.asarray(s, float)[:, None] * residual(pi)
    np.testing.assert_allclose(out, shared(d), atol=1e-12)
    # (W, b) step mapped to logits
    np.testing.assert_allclose(out, to_logits(param_vectors(d).sum(0)), atol=1e-12)


def test_separate_heads_and_tabular():
    out, pi, _ = direction("separate", [1, 1])
    np.testing.assert_allclose(out, 2 * residual(pi), atol=1e-12)
    out, pi, _ = direction("tabular", [0, 1])
    np.testing.assert_allclose(out, np.array([[0.0] * N, residual(pi)[1]]), atol=1e-12)


def test_signals_of_mixture_and_importance_weighting():
    _, h, pi, J = state("mixture", mix=0.3)
    q = 0.7 * J + 0.3 / N
    u = np.array([q[0] - 1e-9, q[1] + 1e-9])
    s = np.empty(K)
    rk.signal(rr.MIXTURE, h, J, rule_state(J), u, u, N, s, np.empty(K))
    np.testing.assert_array_equal(s, [1.0, 0.0])
    _, h, pi, J = state("importance", mix=0.3)
    rk.signal(rr.IMPORTANCE, h, J, rule_state(J), u, u, N, s, np.empty(K))
    np.testing.assert_allclose(s, [J[0] / q[0], 0.0])
    e = np.empty(K)
    rk.expected_signal(rr.IMPORTANCE, h, J, rule_state(J), N, e, np.empty(K))
    np.testing.assert_allclose(e, J)           # unbiased: E[s] = pi_k(k), the on-policy one


def test_rebalanced_and_curriculum_draw_contexts():
    _, h, pi, J = state("rebalanced", mix=0.2)
    p = 0.8 * (1 - J) / (1 - J).sum() + 0.2 / K
    v = np.array([p[0] - 1e-9, p[0] + 1e-9])          # first sample in context 0, second in 1
    u = np.array([J[0] - 1e-9, J[1] - 1e-9])          # both rewarded
    s = np.empty(K)
    rk.signal(rr.REBALANCED, h, J, rule_state(J), u, v, N, s, np.empty(K))
    np.testing.assert_array_equal(s, [1.0, 1.0])
    v = np.array([0.0, 0.0])                          # both in context 0: u[1] < J[0]?
    rk.signal(rr.REBALANCED, h, J, rule_state(J), u, v, N, s, np.empty(K))
    np.testing.assert_array_equal(s, [1.0 + float(u[1] < J[0]), 0.0])
    e = np.empty(K)
    rk.expected_signal(rr.REBALANCED, h, J, rule_state(J), N, e, np.empty(K))
    np.testing.assert_allclose(e, K * p * J)
    _, h, pi, J = state("curriculum", mix=0.1)
    fast, slow = np.array([0.5, 0.2]), np.array([0.4, 0.19])
    lp = np.abs(fast - slow)
    probs = rk.context_probs(rr.CURRICULUM, J, fast, slow, 0.1, np.empty(K))
    np.testing.assert_allclose(probs, 0.9 * lp / lp.sum() + 0.1 / K)


def test_natural_gradient_equals_the_pseudo_inverse_fisher_step_in_W_b():
    """The shared-bias (W, b) natural gradient moves the logits as the tabular one."""
    s = np.array([1.0, 1.0])
    out, pi, J = direction("natural", s)
    A = np.zeros((K, N, K * N + N))                    # d l_k / d theta
    for k in range(K):
        A[k, :, k * N:(k + 1) * N] = np.eye(N)
        A[k, :, K * N:] = np.eye(N)
    F = sum(A[k].T @ (np.diag(pi[k]) - np.outer(pi[k], pi[k])) @ A[k] for k in range(K))
    g = sum(A[k].T @ (s[k] * residual(pi)[k]) for k in range(K))
    step = np.linalg.pinv(F) @ g
    dl = np.einsum("knp,p->kn", A, step)

    def centre(x):                                               # softmax ignores shifts
        return x - x.mean(axis=1, keepdims=True)

    np.testing.assert_allclose(centre(out), centre(dl), atol=1e-8)
    # and in closed form: e_k / pi_k(k), centred
    np.testing.assert_allclose(centre(out), centre(np.eye(K, N) / J[:, None]), atol=1e-8)


def test_pcgrad_projects_conflicting_gradients():
    s = [1.0, 1.0]
    out, pi, _ = direction("pcgrad", s, order=[0, 1])
    d = residual(pi)
    G = param_vectors(d)
    assert G[0] @ G[1] < 0                                   # they conflict here
    g0 = G[0] - (G[0] @ G[1]) / (G[1] @ G[1]) * G[1]
    g1 = G[1] - (G[1] @ G[0]) / (G[0] @ G[0]) * G[0]
    np.testing.assert_allclose(out, to_logits(g0 + g1), atol=1e-12)
    # no conflict: plain sum
    out, pi, _ = direction("pcgrad", [1.0, 0.0])
    np.testing.assert_allclose(out, shared(np.array([1.0, 0.0])[:, None] * d), atol=1e-12)


def test_gradnorm_equalises_norms():
    a = np.array([0.3, 0.01])
    out, pi, _ = direction("gradnorm", [1.0, 1.0], a_norm=a.copy(), beta=0.9)
    d = residual(pi)
    a_new = 0.9 * a + 0.1 * np.sqrt(2 * (d * d).sum(1))
    w = K * (1 / a_new) / (1 / a_new).sum()
    np.testing.assert_allclose(out, shared(w[:, None] * d), atol=1e-9)


def test_escort_score_is_the_gradient_of_log_pi():
    m, h, pi, J = state("escort", p=2.0)
    out, _, _ = direction("escort", [1.0, 0.0])
    eps = 1e-6

    def logpi(Lx):
        e = np.abs(Lx) ** 2
        return np.log(e[0, 0] / e[0].sum())

    grad = np.zeros(N)
    for a in range(N):
        Lp, Lm = L.copy(), L.copy()
        Lp[0, a] += eps
        Lm[0, a] -= eps
        grad[a] = (logpi(Lp) - logpi(Lm)) / (2 * eps)
    expect = np.zeros((K, N))
    expect[0] = grad
    np.testing.assert_allclose(out, shared(expect), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(pi, np.abs(L) ** 2 / (np.abs(L) ** 2).sum(1, keepdims=True))


def test_entropy_regularisation_adds_the_entropy_gradient():
    tau = 0.05
    out, pi, _ = direction("entropy", [0.0, 1.0], tau=tau)
    eps = 1e-6

    def H(logits):
        p = softmax(logits[None])[0]
        return -(p * np.log(p)).sum()

    gH = np.zeros((K, N))
    for k in range(K):
        for a in range(N):
            Lp, Lm = L[k].copy(), L[k].copy()
            Lp[a] += eps
            Lm[a] -= eps
            gH[k, a] = (H(Lp) - H(Lm)) / (2 * eps)
    d = np.array([0.0, 1.0])[:, None] * residual(pi) + tau * gH
    np.testing.assert_allclose(out, shared(d), atol=1e-8)


@pytest.mark.parametrize("kind", ["adam", "rmsprop"])
def test_adam_and_rmsprop_match_optax(kind):
    import jax.numpy as jnp
    import optax

    eta = 0.01
    opt = (optax.adam(eta, b1=0.9, b2=0.999, eps=1e-8) if kind == "adam"
           else optax.rmsprop(eta, decay=0.9, eps=1e-8, eps_in_sqrt=False))
    params = {"W": jnp.zeros((K, N)), "b": jnp.zeros(N)}
    ost = opt.init(params)
    moments = np.zeros((2, K + 1, N))
    for t, s in enumerate([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], start=1):
        out, pi, _ = direction(kind, s, t=float(t), moments=moments, eta=eta)
        d = np.asarray(s)[:, None] * residual(pi)
        upd, ost = opt.update({"W": -jnp.asarray(d), "b": -jnp.asarray(d.sum(0))}, ost)
        dl = (np.asarray(upd["W"]) + np.asarray(upd["b"])[None]) / eta
        np.testing.assert_allclose(out, dl, rtol=1e-5, atol=1e-6)


def test_expected_rate_of_reinforce_is_the_library_flatness():
    m, h, pi, J = state("reinforce")
    rate = rk.expected_rate(rr.REINFORCE, h, L, pi, J, 1.0, rule_state(J), np.empty(K),
                            np.empty(K), np.arange(K), scratch(), np.empty((K, N)))
    np.testing.assert_allclose(rate, expected_progress_rate(L[None], "on_policy",
                                                            "shared_bias")[0])


def test_unknown_kind_is_rejected_with_the_known_ones():
    with pytest.raises(ValueError, match="reinforce"):
        rm.Method("magic")


def test_runs_are_reproducible_and_start_at_J0():
    a = rm.run_method(rm.Method("reinforce"), K=2, n=2, n_runs=8, max_samples=2000, seed=3)
    b = rm.run_method(rm.Method("reinforce"), K=2, n=2, n_runs=8, max_samples=2000, seed=3)
    np.testing.assert_array_equal(a.flatness, b.flatness)
    np.testing.assert_allclose(a.initial.sum(1), 0.2)
    e = rm.run_method(rm.Method("escort"), K=2, n=2, n_runs=8, max_samples=2000, seed=3)
    np.testing.assert_allclose(e.initial, a.initial, atol=1e-12)   # same pi0


@pytest.mark.slow
def test_baseline_reproduces_the_library_fraction():
    """On-policy REINFORCE here and in the library kernel: same flat fraction (2-sample z)."""
    from rayint_lib.model.config import BanditConfig
    from rayint_lib.model.simulate import simulate

    R = 400
    ours = rm.run_method(rm.Method("reinforce"), K=2, n=2, n_runs=R, max_samples=20_000, seed=5)
    lib = simulate(BanditConfig(K=2, n=2, n_runs=R, max_samples=20_000, seed=6))
    p1, p2 = ours.flat().mean(), lib.fraction_flatter_than(1e-5)
    p = (p1 + p2) / 2
    z = (p1 - p2) / np.sqrt(2 * p * (1 - p) / R)
    assert abs(z) < 3.5, (p1, p2)


def test_cosine_gated_weights_each_context_by_its_agreeing_partners():
    out, pi, _ = direction("cosgate", [1.0, 1.0])
    d = residual(pi)
    G = param_vectors(d)
    cos = G[0] @ G[1] / np.linalg.norm(G[0]) / np.linalg.norm(G[1])
    w = (1 + max(0.0, cos)) / K
    # main task 0: g0 + max(0, cos) g1; main task 1: g1 + max(0, cos) g0; averaged
    np.testing.assert_allclose(out, to_logits(w * G[0] + w * G[1]), atol=1e-12)
    # a conflicting partner is dropped: the plain gradient divided by K
    Lc = np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, 0.0]])
    m, h, pic, Jc = state("cosgate")
    rk.policy(rm.CODES["cosgate"], Lc, h[rr.P], pic, Jc)
    dc = np.eye(K, N) - pic
    Gc = param_vectors(dc)
    assert Gc[0] @ Gc[1] < 0
    outc = np.empty((K, N))
    rk.direction(rm.CODES["cosgate"], h, Lc, pic, Jc, np.ones(K), 1.0, np.arange(K),
                 rule_state(Jc), True, scratch(), outc)
    np.testing.assert_allclose(outc, shared(dc) / K, atol=1e-12)


def _method(kind):
    return rm.Method(kind, eta=0.01) if kind in ("adam", "rmsprop") else rm.Method(kind)


@pytest.mark.parametrize("kind", rm.KINDS)
def test_every_rule_agrees_with_its_numpy_reference_run_by_run(kind):
    """Same starts, same random streams: the compiled rule and the numpy reference give the
    same runs up to rounding (curves 1e-7, stop steps exact, flatness 1e-4 relative)."""
    m = _method(kind)
    cfg = rm.method_config(m, K=3, n=4, n_runs=16, max_samples=3000, seed=4)
    fast, ref = rm.run_rule(cfg), run_rule_reference(cfg)
    np.testing.assert_allclose(fast.curves, ref.curves, atol=1e-7)
    np.testing.assert_array_equal(fast.stop_step, ref.stop_step)
    np.testing.assert_array_equal(fast.solved, ref.solved)
    np.testing.assert_allclose(fast.flatness, ref.flatness, rtol=1e-4)
    np.testing.assert_allclose(fast.flattest_J, ref.flattest_J, atol=1e-7)
    assert 0 < np.isfinite(ref.flatness).sum()


def test_reinforce_rule_draws_the_library_learners_stream():
    """One random-number scheme: REINFORCE as a rule and the library kernel's on-policy
    learner (float64) draw the same uniforms, so their runs stop at the same updates."""
    from rayint_lib.model.simulate import simulate_fast

    m = rm.Method("reinforce")
    cfg = rm.method_config(m, K=2, n=2, n_runs=32, max_samples=4000, seed=9)
    ours, lib = rm.run_rule(cfg), simulate_fast(cfg.replace(rule=None), dtype=np.float64)
    np.testing.assert_array_equal(ours.stop_step, lib.stop_step)
    np.testing.assert_allclose(ours.final, lib.final, atol=1e-9)


def test_simulate_runs_the_configs_rule_and_checks_the_config_names_it():
    from rayint_lib.model.config import BanditConfig
    from rayint_lib.model.simulate import simulate

    m = rm.Method("tabular")
    cfg = rm.method_config(m, n_runs=4, max_samples=400, seed=2)
    a, b = simulate(cfg), rm.run_method(m, n_runs=4, max_samples=400, seed=2)
    np.testing.assert_array_equal(a.curves, b.curves)
    assert a.method == m
    with pytest.raises(ValueError, match="policy must be 'tabular'"):
        cfg.replace(policy="shared_bias")
    with pytest.raises(ValueError, match="eta must be 0.5"):
        cfg.replace(rule=m.with_(eta=0.5))
    with pytest.raises(ValueError, match="rule must be None or a remedies.Method"):
        BanditConfig(rule="pcgrad")
    with pytest.raises(ValueError, match="steps and record_logits"):
        simulate(cfg, record_logits=True)


def test_the_table_of_rules_gives_names_codes_labels_and_terms():
    """One row per rule: the names, codes, descriptions, labels, config terms and the
    compiled rules' constants all come from :data:`.remedy_rules.RULES`."""
    assert rm.KINDS == tuple(rule.name for rule in rr.RULES)
    assert len(set(rm.KINDS)) == len(rm.KINDS)
    for kind in rm.KINDS:
        assert getattr(rr, kind.upper()) == rm.CODES[kind] == rm.KINDS.index(kind)
        m = _method(kind)
        assert rm.DESCRIPTIONS[kind] and m.label and "{" not in m.label
        m.check_config(rm.method_config(m))
    for name in rr.HYPER:
        assert rr.HYPER[getattr(rr, name.upper())] == name
    assert rm.Method("mixture", mix=1.0).label == "fixed uniform data"
    assert rm.Method("importance", mix=0.25).label == "importance-weighted (mixture 0.25)"
    assert rm.Method("rmsprop", eta=0.003).label == "RMSProp eta=0.003"
    np.testing.assert_array_equal(rm.Method("escort", p=3.0).hyper()[rr.P], 3.0)
