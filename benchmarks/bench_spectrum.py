"""Speed and accuracy of the spectral solver (prints figures; not a test).

    python benchmarks/bench_spectrum.py

Figures, all measured in this one run:

1. linear, L = 1..10, 1000 interior lambda points: max abs error of the
   float64 Newton solver against the exact (Haagerup-Moeller) density, and
   its time, against a vectorised numpy implementation of the papers'
   iteration (with the w0 fix) at b = 2, N = 20, eps = 1e-5, N0 = 50.
   Targets: error <= 1e-10; Newton >= 5x faster and >= 1000x more accurate.
2. linear, L = 100: number of wrong-branch points (target 0).
3. erf, L = 3, 1000 points, float64: time (target < 2 s).
4. linear, L = 2, dps = 30, 50 points: max error against the exact density
   at 30 digits (target <= 1e-25).
5. depth: ReLU (sigma_w^2 = 2) and hard-tanh (sigma_w^2 = 4, sigma_b^2 =
   0.05) at L = 10, 25, 100, 1000, 1000 lambda on a log grid from 1e-300 to
   0.999 lambda_max: float64 time, points not converged, and the max
   relative error against dps = 40 (target <= 1e-9, every point converged).
   The float64 time at L = 10 is printed beside the time of the w-form
   solver this replaced (measured on the same machine before the change:
   0.043 s ReLU, 0.061 s hard-tanh, for 1000 points from 1e-6 lambda_max);
   target: within 3x.
6. High precision and certified densities (python-flint), all ratios to the
   float64 time of the same 1000 points measured in this run:
   dps = 30 by the flint route (target <= 20x) beside the mpmath route, for
   linear, ReLU and hard-tanh; erf at dps = 200 on 100 points (target < 1 s;
   mpmath on one point at dps = 200 beside it); certify=True at 53 bits
   (target <= 50x) for linear, ReLU, hard-tanh and the same 100 erf points
   (erf: best of 3 runs, as the float64 times are best of several).
7. orthogonal weights: hard-tanh, L = 8, 1000 lambda points, float64,
   against the Gaussian route at the same parameters; accuracy of each
   against an independent route (orthogonal: the layer system of
   rmtfp.spectrum.layered with the weight factor; Gaussian: the polynomial
   roots).  Target: orthogonal within 2x of the Gaussian time, both errors
   <= 1e-8.
"""

from __future__ import annotations

import argparse
import time

import mpmath
import numpy as np

from rmtfp import Status, density, fuss_catalan_density, fuss_catalan_lambda_max, support
from rmtfp.spectrum.arb import have_flint


def best_of(f, repeat=3):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def papers_iteration_numpy(lam, L, b=2.0, N=20, eps=1e-5, N0=50):
    """The papers' scheme for m_K = u/(1-u) (linear), plain numpy, w0 = m_1/z0 (the fix)."""
    w = 1.0 / (lam + 1j * b**N)
    for k in range(2 * N + 1):
        z = lam + 1j * b ** (N - k)
        zl = z ** (-1.0 / L)
        active = np.ones(lam.shape, dtype=bool)
        for _ in range(N0):
            wa = w[active]
            u = zl[active] * (1 + wa) ** (1.0 / L) * wa ** (1 - 1.0 / L)
            new = u / (1 - u)
            conv = np.abs(new - wa) < eps
            w[active] = new
            idx = np.flatnonzero(active)
            active[idx[conv]] = False
            if not active.any():
                break
    return -np.imag((1 + w) / z) / np.pi


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", choices=("all", "depth", "precision", "orthogonal"), default="all",
                        help="run one section only: depth (5), precision (6) or orthogonal (7); default all")
    args = parser.parse_args(argv)
    only = {"depth": depth_section, "precision": high_precision, "orthogonal": orthogonal_route}.get(args.section)
    if only is not None:
        only()
        return
    print("1. linear, 1000 interior points: Newton (float64) vs the papers' iteration (numpy, b=2, N=20)")
    print(f"{'L':>3} {'newton s':>10} {'err newton':>11} {'iteration s':>12} {'err iteration':>14} "
          f"{'speed-up':>9} {'acc. ratio':>11}")
    ok = True
    for L in range(1, 11):
        lmax = fuss_catalan_lambda_max(L)
        lam = np.linspace(0.01 * lmax, 0.99 * lmax, 1000)
        exact = fuss_catalan_density(lam, L)
        t_n, res = best_of(lambda: density(lam, "linear", L))
        t_i, it = best_of(lambda: papers_iteration_numpy(lam, L), repeat=1)
        e_n = np.max(np.abs(res.density - exact))
        e_i = np.max(np.abs(it - exact))
        ok &= e_n <= 1e-10 and t_i / t_n >= 5 and e_i / max(e_n, 1e-300) >= 1000
        print(f"{L:>3} {t_n:10.4f} {e_n:11.2e} {t_i:12.4f} {e_i:14.2e} {t_i / t_n:9.1f} "
              f"{e_i / max(e_n, 1e-300):11.2e}")
    print(f"   targets (err <= 1e-10, >= 5x faster, >= 1000x more accurate): {'met' if ok else 'NOT met'}")

    lmax = fuss_catalan_lambda_max(100)
    lam = np.geomspace(1e-6 * lmax, 0.999 * lmax, 1000)
    t, res = best_of(lambda: density(lam, "linear", 100), repeat=1)
    wrong = int(np.sum(res.status == Status.WRONG_BRANCH))
    rel = np.max(np.abs(res.density / fuss_catalan_density(lam, 100) - 1))
    print(f"2. linear L = 100, 1000 points on a log grid: {wrong} wrong-branch points, "
          f"{res.n_failed} not converged, max rel. error {rel:.1e}, {t:.3f} s")

    sup = support("erf", 3, sigma_w2=1.5, sigma_b2=0.1)
    lam = np.linspace(1e-3, 0.999 * sup.lambda_max, 1000)
    t, res = best_of(lambda: density(lam, "erf", 3, sigma_w2=1.5, sigma_b2=0.1))
    print(f"3. erf L = 3 (sigma_w2 = 1.5, sigma_b2 = 0.1, q* = {res.params['q']:.6f}), 1000 points float64: "
          f"{t:.3f} s, {res.n_failed} not converged (target < 2 s)")

    lam = np.linspace(0.05, 6.7, 50)
    t, res = best_of(lambda: density(lam, "linear", 2, dps=30), repeat=1)
    exact = fuss_catalan_density(lam, 2, dps=30)
    with mpmath.workdps(30):
        err = max(abs(a - b) for a, b in zip(res.density, exact))
    print(f"4. linear L = 2, dps = 30, 50 points: max error {mpmath.nstr(err, 3)} vs exact at 30 digits "
          f"(target <= 1e-25), {t:.2f} s")
    depth_section()
    high_precision()
    orthogonal_route()


def depth_section():
    print("5. depth: 1000 lambda on a log grid from 1e-300 to 0.999 lambda_max, float64 vs dps = 40")
    print(f"{'activation':>10} {'L':>5} {'float64 s':>10} {'failed':>7} {'max rel err':>12} {'dps=40 s':>9}")
    ok = True
    for act, kw in (("relu", dict(sigma_w2=2.0)), ("hardtanh", dict(sigma_w2=4.0, sigma_b2=0.05))):
        for L in (10, 25, 100, 1000):
            lmax = support(act, L, **kw).lambda_max
            lam = np.geomspace(1e-300, 0.999 * lmax, 1000)
            t64, res = best_of(lambda: density(lam, act, L, **kw))
            t40, ref = best_of(lambda: density(lam, act, L, dps=40, **kw), repeat=1)
            ref_f = np.array(ref.density, dtype=float)
            err = float(np.max(np.abs(res.density - ref_f) / ref_f))
            ok &= err <= 1e-9 and res.converged and ref.converged
            print(f"{act:>10} {L:>5} {t64:10.3f} {res.n_failed:7d} {err:12.2e} {t40:9.2f}")
    for act, kw, before in (("relu", dict(sigma_w2=2.0), 0.043), ("hardtanh", dict(sigma_w2=4.0, sigma_b2=0.05), 0.061)):
        lmax = support(act, 10, **kw).lambda_max
        lam = np.geomspace(1e-6 * lmax, 0.999 * lmax, 1000)
        t, _ = best_of(lambda: density(lam, act, 10, **kw))
        ok &= t <= 3 * before
        print(f"   {act} L = 10, 1000 points from 1e-6 lambda_max: {t:.3f} s (w-form solver before: {before:.3f} s, "
              f"ratio {t / before:.2f})")
    print(f"   targets (err <= 1e-9, all converged, L = 10 within 3x): {'met' if ok else 'NOT met'}")


def high_precision():
    """Section 6 (see module doc)."""
    if not have_flint():
        print("6. skipped: python-flint is not installed (pip install 'rmtfp[flint]')")
        return
    print("6. high precision and certification, 1000 points (ratios to float64 in this run)")
    print(f"{'case':>28} {'float64 s':>10} {'flint dps=30':>13} {'ratio':>7} {'mpmath dps=30':>14} {'ratio':>7} "
          f"{'certify s':>10} {'ratio':>7} {'certified':>10}")
    cases = [("linear L=3", "linear", 3, {}), ("relu L=3 sigma_w2=2", "relu", 3, dict(sigma_w2=2.0)),
             ("hardtanh L=3 (1.5, 0.1)", "hardtanh", 3, dict(sigma_w2=1.5, sigma_b2=0.1))]
    ok30 = okc = True
    for label, act, L, kw in cases:
        lmax = support(act, L, **kw).lambda_max
        lam = np.linspace(1e-3 * lmax, 0.99 * lmax, 1000)
        t64, _ = best_of(lambda: density(lam, act, L, **kw))
        tfl, rf = best_of(lambda: density(lam, act, L, dps=30, backend="flint", **kw), repeat=1)
        tmp, _ = best_of(lambda: density(lam, act, L, dps=30, backend="mpmath", **kw), repeat=1)
        tce, rc = best_of(lambda: density(lam, act, L, certify=True, **kw), repeat=1)
        n_cert = int(np.sum(rc.status == Status.CERTIFIED))
        ok30 &= tfl / t64 <= 20 and rf.converged
        okc &= tce / t64 <= 50
        print(f"{label:>28} {t64:10.4f} {tfl:13.3f} {tfl / t64:7.1f} {tmp:14.3f} {tmp / t64:7.1f} {tce:10.3f} "
              f"{tce / t64:7.1f} {n_cert:>5}/1000")
    print(f"   targets (flint dps=30 <= 20x float64; certify <= 50x float64): "
          f"{'met' if ok30 else 'NOT met'}; {'met' if okc else 'NOT met'}")
    kw = dict(sigma_w2=1.5, sigma_b2=0.1)
    lmax = support("erf", 3, **kw).lambda_max
    lam = np.linspace(1e-3, 0.99 * lmax, 100)
    t200, r200 = best_of(lambda: density(lam, "erf", 3, dps=200, backend="flint", **kw), repeat=1)
    tmp1, rm = best_of(lambda: density(lam[50:51], "erf", 3, dps=200, backend="mpmath", **kw), repeat=1)
    with mpmath.workdps(200):
        agree = abs(r200.density[50] - rm.density[0]) / abs(rm.density[0])
    met = t200 < 1 and r200.converged
    print(f"   erf L=3 dps=200 by flint, 100 points from 1e-3 to 0.99 lambda_max: {t200:.2f} s "
          f"({r200.n_failed} not converged; target < 1 s per 100: {'met' if met else 'NOT met'}); "
          f"mpmath, one point at dps=200: {tmp1:.1f} s (relative difference {mpmath.nstr(agree, 3)})")
    t64, _ = best_of(lambda: density(lam, "erf", 3, **kw))
    tce, rc = best_of(lambda: density(lam, "erf", 3, certify=True, **kw))
    print(f"   erf L=3 certify=True, the same 100 points: {tce:.2f} s = {tce / t64:.0f}x float64 "
          f"({int(np.sum(rc.status == Status.CERTIFIED))}/100 certified; target <= 50x: "
          f"{'met' if tce / t64 <= 50 else 'NOT met'})")
    for L in (25, 100, 1000):
        lam = np.geomspace(1e-300, 1.0, 20)
        tce, rc = best_of(lambda: density(lam, "relu", L, sigma_w2=2.0, certify=True), repeat=1)
        print(f"   relu L={L} sigma_w2=2, 20 points on [1e-300, 1] (log grid), certify=True: {tce:.2f} s, "
              f"{int(np.sum(rc.status == Status.CERTIFIED))}/20 certified")


def orthogonal_route():
    """Section 7 (see the module documentation)."""
    from rmtfp.spectrum.layered import density_layered
    from rmtfp.spectrum.weights import architecture

    act, L, sw2, sb2 = "hardtanh", 8, 1.5, 0.1
    times, errs = {}, {}
    for weights in ("gaussian", "orthogonal"):
        sup = support(act, L, sigma_w2=sw2, sigma_b2=sb2, weights=weights)
        top = float(sup.params.get("lambda_max_continuous", sup.lambda_max))
        lam = np.linspace(1e-3 * top, 0.999 * top, 1000)
        t, res = best_of(lambda: density(lam, act, L, sigma_w2=sw2, sigma_b2=sb2, weights=weights))
        q = res.params["q"]
        if weights == "gaussian":
            ref = density(lam, act, L, sigma_w2=sw2, sigma_b2=sb2, method="polynomial").density
        else:
            ref = density_layered(lam, act, [q] * L, sw2, arch=architecture("orthogonal", None, L, sw2))[0]
        times[weights] = t
        errs[weights] = float(np.max(np.abs(res.density - ref) / np.maximum(np.abs(ref), 1e-300)))
        print(f"7. hard-tanh L = {L} (sigma_w2 = {sw2}, sigma_b2 = {sb2}, q* = {q:.6f}), {weights:>10} weights, "
              f"1000 points float64: {t:.3f} s, {res.n_failed} not converged, max rel. error {errs[weights]:.1e} "
              f"against the {'polynomial' if weights == 'gaussian' else 'layer-system'} route")
    ratio = times["orthogonal"] / times["gaussian"]
    ok = ratio <= 2 and max(errs.values()) <= 1e-8
    print(f"   orthogonal / Gaussian time: {ratio:.2f} (target <= 2, errors <= 1e-8): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
