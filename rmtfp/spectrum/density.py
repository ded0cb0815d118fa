"""Eigenvalue density of J J^T: the public entry point :func:`density`."""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Optional, Sequence, Union

import mpmath
import numpy as np

from .._checks import int_at_least
from ..activations import Activation, get
from ..errors import ConvergenceError
from ..precision import check_dps, round_to, workdps
from .density_result import DensityResult
from .equation import Equation
from .routes import check_backend, is_per_layer
from .iteration import papers_iteration
from .polynomial import polynomial_roots
from .solvers import Status, newton_continuation, refine_on_real_axis
from .support import support as _support

__all__ = ["DensityResult", "density", "resolve_parameters", "resolve_layered", "is_per_layer", "check_lam"]

METHODS = ("auto", "newton", "polynomial", "iteration")


def check_lam(lam) -> np.ndarray:
    """lam as a 1-d float array; raises ValueError for empty, non-finite or non-positive points."""
    try:
        arr = np.asarray(lam, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"lam must be an array of positive real numbers, got {lam!r}") from None
    if arr.ndim > 1:
        raise ValueError(f"lam must be a scalar or 1-d array, got shape {arr.shape}")
    arr = np.atleast_1d(arr)
    if arr.size == 0:
        raise ValueError("lam must contain at least one point, got an empty grid")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        raise ValueError(f"lam must be finite and > 0 (the atom at 0 is reported separately), got {float(arr[bad][0])!r}")
    return arr


def _check_variance(name: str, value, allow_zero: bool) -> float:
    if isinstance(value, str) and value.strip().lower() in ("inf", "infinite", "cauchy"):
        raise ValueError(
            f"{name}={value!r}: the spectral theory needs weights of finite variance; Cauchy/heavy-tailed "
            "weights have no theory here (use rmtfp.sample_jacobian_spectrum to sample them)"
        )
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if math.isinf(v):
        raise ValueError(
            f"{name}={value!r}: infinite variance (Cauchy-like weights) has no spectral theory; "
            "sample such networks with rmtfp.sample_jacobian_spectrum instead"
        )
    if math.isnan(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be finite and {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return v


def resolve_parameters(activation, depth, sigma_w2, q, sigma_b2):
    """Validate parameters and resolve q (q* from sigma_w2, sigma_b2 when q is None).

    Returns (activation, depth, sigma_w2, q, sigma_b2, q_source) where q is
    None only when the law of D^2 does not depend on q.
    """
    act = get(activation)
    depth = int_at_least("depth", depth, 1)
    sigma_w2 = _check_variance("sigma_w2", sigma_w2, allow_zero=False)
    sigma_b2 = _check_variance("sigma_b2", sigma_b2, allow_zero=True)
    if q is not None and not isinstance(q, numbers.Real):
        if isinstance(q, (Sequence, np.ndarray)):
            raise ValueError("q must be a single positive number here; per-layer q sequences are "
                             "handled by rmtfp.density(q=[...])")
        raise ValueError(f"q must be a positive real number or None, got {q!r}")
    if q is not None:
        q = _check_variance("q", q, allow_zero=False)
        source = "given"
    elif not act.depends_on_q:
        source = "not needed"
    else:
        q = act.q_star(sigma_w2, sigma_b2)
        source = "q_star"
    return act, depth, sigma_w2, q, sigma_b2, source


def _two_point(act: Activation, q):
    """(c, v) when D^2 in {0, v} with P(D^2 = v) = c, else None."""
    s = act.d2_structure
    if s.kind == "discrete" and len(s.values) == 1:
        vals, probs = act._discrete_law(q if q is not None else 1.0)
        return float(probs[0]), float(vals[0])
    if q == 0:  # degenerate law
        return 1.0, float(act.dphi(0.0)) ** 2
    return None


def density(lam, activation: Union[str, Activation], depth: int, sigma_w2: float = 1.0,
            q: Optional[Union[float, Sequence[float]]] = None, sigma_b2: float = 0.0,
            dps: Optional[int] = None, method: str = "auto", mgf_method: str = "auto",
            backend: Optional[str] = None, certify: bool = False, weights=None, widths=None,
            **options) -> DensityResult:
    """Eigenvalue density rho(lambda) of J J^T, J = prod_{l=1}^L D_l W_l.

    Solves w = m_K(sigma_w^2 z^{-1/L} (1+w)^{1/L} w^{1-1/L}) (docs/theory.md; the
    papers' eq. (14)/(19) is the case sigma_w^2 = 1) and returns
    rho(lambda) = -Im w(lambda + i0)/(pi lambda).  The equation is solved in
    t = log u, u the argument of m_K, with 1 + w summed without cancellation
    (docs/theory.md, "The equation in log variables"): tested for depths
    1..1000 and lambda from 1e-300 to lambda_max.  A point is ``converged``
    only when the residual of the log equation is at rounding level and
    Im w <= 0; above lambda_max the density is exactly 0.

    Parameters
    ----------
    lam : array_like of float > 0
        Points at which to evaluate the density (any order).
    activation : str or Activation
    depth : int >= 1
        Number of layers L.
    sigma_w2 : float > 0
        Weight variance times the width (entries of W have variance sigma_w2/N).
    q : float > 0, sequence of floats, or None
        Variance of the pre-activations.  ``None``: q* from (sigma_w2,
        sigma_b2), or not needed when the law of phi'(h)^2 does not depend on
        q (linear, ReLU).  A sequence of ``depth`` values solves the
        layer-dependent equation (layers off the fixed point).
    sigma_b2 : float >= 0
        Bias variance (enters only through q*).
    dps : int, optional
        Decimal digits (mpmath); float64 and vectorised when ``None``.  Then
        q* is solved at ``dps`` digits, and parameters given as
        ``mpmath.mpf`` keep their precision (a Python float is taken as the
        binary number it is).
    method : {"auto", "newton", "polynomial", "iteration"}
        ``"newton"`` (default for ``"auto"``): Newton continuation finishing
        on the real axis.  ``"polynomial"``: roots of z w = s(1+w)(c+w)^L
        (two-point laws only, float64).  ``"iteration"``: the papers' scheme
        (options ``b``, ``N``, ``eps``, ``N0``, ``w0``); its density is at
        eta = b^{-N}, i.e. Poisson-smoothed.
    mgf_method : {"auto", "formula", "quadrature"}
        Route for m_K (see :meth:`rmtfp.Activation.mgf_d2`); ``"quadrature"``
        gives an independent check of the closed forms.
    backend : {None, "mpmath", "flint"}
        Arithmetic of the ``dps`` route.  ``"flint"``: Arb ball arithmetic
        (python-flint, the ``rmtfp[flint]`` extra) on the scaled equation of
        :mod:`rmtfp.spectrum.certify`; ``None``: flint when installed and the
        law of D^2 has a closed form (with the default ``method`` and
        ``mgf_method``), mpmath otherwise.  With flint, erf-type points whose
        argument of m_K lies beyond the fast Lerch route (tiny lambda) are
        solved by the mpmath route; ``params["mpmath_points"]`` lists them.
    certify : bool
        Prove every point (python-flint): Krawczyk test on the root and its
        branch, at 64 bits, refined to ``dps`` digits when given.  The result
        then carries ``lower``/``upper`` and the status ``certified`` (or
        ``not_certified``).
    weights : {"gaussian", "orthogonal"} or sympy expression, optional
        Weight ensemble (default Gaussian): ``"orthogonal"`` is W_l = sigma_w O_l,
        O_l Haar; a sympy expression in ``rmtfp.spectrum.weights.M`` is the
        S-transform s(m) = sigma_w^2 S_{W^T W}(m), s(0) = 1 (square layers).
        See :mod:`rmtfp.spectrum.weights`; atoms away from 0 are listed in
        ``params["atoms"]``.
    widths : sequence of depth + 1 numbers, optional
        n_0, ..., n_L (only the ratios matter): rectangular layers, W_l of
        size n_l x n_{l-1} with entries of variance sigma_w2/n_{l-1}; the law
        is that of the n_L x n_L matrix J J^T (float64, ``method="newton"``).
    **options
        Passed to the solver (``"newton"``: ``eta_min_rel``, ``tol``,
        ``max_newton``, ``max_final``; ``"iteration"``: ``b``, ``N``, ``eps``,
        ``N0``, ``w0``).

    Returns
    -------
    DensityResult

    Raises
    ------
    ValueError
        Bad input (depth < 1, lambda <= 0 or non-finite, variances <= 0,
        unknown activation, dps out of range, infinite-variance weights).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    _check_options(method, is_per_layer(q), options)
    lam = check_lam(lam)
    dps = check_dps(dps)
    other_arch = _architecture(weights, widths, depth if isinstance(depth, int) and depth >= 1 else 1,
                               1.0) is not None
    backend = check_backend(backend, certify, dps, method, mgf_method, q, activation, other_arch)
    if backend == "flint":
        from .flint_density import density_by_flint

        return density_by_flint(lam, activation, depth, sigma_w2, q, sigma_b2, dps, certify, options)
    if is_per_layer(q):
        if other_arch:
            raise ValueError("weights/widths with a per-layer q are not supported; give one q (or None for q*)")
        return _density_layered(lam, activation, depth, q, sigma_w2, sigma_b2, dps, method, mgf_method, options)
    sigma_w2_in, q_in, sigma_b2_in = sigma_w2, q, sigma_b2
    act, depth, sigma_w2, q, sigma_b2, q_source = resolve_parameters(activation, depth, sigma_w2, q, sigma_b2)
    sup = _support(act, depth, sigma_w2=sigma_w2, q=q, _resolved=True)
    if mgf_method not in ("auto", "formula", "quadrature"):
        raise ValueError(f"mgf_method must be 'auto', 'formula' or 'quadrature', got {mgf_method!r}")
    params = dict(activation=act.name, depth=depth, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                  q=None if q is None else float(q), q_source=q_source, dps=dps, method=method,
                  mgf_method=mgf_method,
                  **{k: v for k, v in options.items()})
    arch = _architecture(weights, widths, depth, sigma_w2_in if dps is not None else sigma_w2)
    if arch is not None:  # other weight ensembles, rectangular layers: rmtfp.spectrum.architectures
        from .architectures import density_arch

        if dps is not None and q_source == "q_star":
            q = act.q_star(sigma_w2_in, sigma_b2_in, dps=dps)
        return density_arch(lam, act, arch, q, dps, method, mgf_method, options, params)
    if method == "auto":
        method = "newton"
        params["method"] = "newton"
    two_point = _two_point(act, q)
    if method == "polynomial":
        if two_point is None:
            raise ValueError(f"method='polynomial' needs a law of D^2 with one non-zero value (linear, ReLU, "
                             f"hard-tanh); activation {act.name!r} has none")
        if dps is not None:
            raise ValueError("method='polynomial' is float64 only; use dps=None or method='newton'")
    options = dict(options, _two_point=two_point)
    if dps is None:
        eq = Equation(act, depth, sigma_w2, q, None, mgf_method)
        with np.errstate(over="ignore", invalid="ignore"):  # float64 range exceeded: judged by the status
            return _solve(eq, lam, method, options, sup, params)[0]
    start = None
    if method == "newton":
        # float64 continuation, then Newton at full precision from its root
        with np.errstate(over="ignore", invalid="ignore"):
            start = _solve(Equation(act, depth, sigma_w2, q, None, mgf_method), lam, method, options, sup, params)
    # full-precision parameters: mpmath numbers as given, q* solved at dps digits
    sw2_mp = sigma_w2_in if isinstance(sigma_w2_in, mpmath.mpf) else mpmath.mpf(sigma_w2)
    if q is None:
        q_mp = None
    elif isinstance(q_in, mpmath.mpf):
        q_mp = q_in
    elif q_source == "q_star":
        q_mp = act.q_star(sw2_mp, sigma_b2_in if isinstance(sigma_b2_in, mpmath.mpf) else sigma_b2, dps=dps)
    else:
        q_mp = mpmath.mpf(q)
    with workdps(dps):
        eq = Equation(act, depth, sw2_mp, q_mp, dps, mgf_method)
        try:
            res, _ = _solve(eq, lam, method, options, sup, params, start)
        except (ZeroDivisionError, OverflowError) as exc:  # mpmath arithmetic at the edge of its range
            raise ConvergenceError(
                f"density at dps={dps}: the {method} solver failed in mpmath ({type(exc).__name__}) at lambda in "
                f"[{float(np.min(lam)):.3g}, {float(np.max(lam)):.3g}]; no density is reported there") from None
    return dataclasses.replace(res, density=round_to(res.density, dps), w=round_to(res.w, dps))


def _solve(eq: Equation, lam, method, options, sup, params, start=None):
    """The one place where a route is chosen: (DensityResult, t) of ``method`` on ``eq``.

    ``start``: the (DensityResult, t) of the float64 solve, whose converged
    roots are refined by Newton at ``eq``'s precision (the others are solved
    again by continuation at that precision).

    Every route returns t = log u (or, for the papers' iteration, w at its
    last eta); w = m_K(e^t) and 1 + w follow from the kernels, and the
    density is -Im(1 + w)/(pi lambda) from the cancellation-free 1 + w.
    """
    bk = eq.backend
    lam_b = bk.farray(lam)
    options = dict(options)
    two_point = options.pop("_two_point", None)
    if method == "iteration":
        w, nn, z, status, n_hit = papers_iteration(eq, lam_b, **options)
        dens = -bk.imag(nn / z) / (float(np.pi) if eq.dps is None else mpmath.pi)
        return DensityResult(lam, dens, w, status, sup.atom, sup.lambda_max,
                             dict(params, steps_at_N0=n_hit.tolist())), None
    if method == "polynomial":
        t, status = polynomial_roots(eq, lam_b, *two_point, outside=_outside_support(lam, sup, eq.depth, two_point))
    elif start is not None:
        res64, t64 = start
        # a float64 root that failed its residual test is no start: continue at full precision there
        redo = np.isin(res64.status, (Status.NOT_CONVERGED, Status.WRONG_BRANCH, Status.OUT_OF_RANGE))
        t = eq.backend.carray(np.where(redo, 0j, t64))
        status = np.zeros(len(lam), dtype=np.int8)
        keep = np.flatnonzero(~redo)
        if keep.size:
            t[keep], status[keep] = refine_on_real_axis(eq, lam_b[keep], t64[keep], **options)
        if redo.any():
            ri = np.flatnonzero(redo)
            t[ri], status[ri] = newton_continuation(eq, lam_b[ri], **options)
    else:
        t, status = newton_continuation(eq, lam_b, **options)
    outside = _outside_support(lam, sup, eq.depth, two_point)
    if outside.any() and method != "polynomial":
        t, status = _real_root(eq, lam_b, t, status, outside)
    w, nn = _verify(eq, lam_b, t, status, two_point)
    # Im w <= 0 up to rounding (larger violations carry Status.WRONG_BRANCH); 0 outside the support
    if eq.dps is None:
        dens = -np.minimum(nn.imag, 0.0) / (np.pi * lam_b) + 0.0
        dens[outside] = 0.0
    else:
        dens = np.array([mpmath.mpf(0) if out else -min(v.imag, 0) / (mpmath.pi * x)
                         for v, x, out in zip(nn, lam_b, outside)], dtype=object)
    _reject_zero_inside(lam, dens, status, eq.depth, sup.lambda_max)
    return DensityResult(lam, dens, w, status, sup.atom, sup.lambda_max, params), t


def _verify(eq: Equation, lam_b, t, status, two_point):
    """w and 1 + w at the roots; routes to m_K that are not closed forms are checked by a second route.

    float64 m_K by the Lerch transcendent or by quadrature is not exact: the
    log equation must also hold, to 1e-9 of its terms, with m_K by quadrature
    on panels of half the width.  Points where it does not get
    Status.INACCURATE_MGF (the dps route evaluates m_K adaptively).
    """
    bk = eq.backend
    real_axis = bk.log_upper(bk.carray(lam_b))
    with np.errstate(all="ignore"):
        _, _, w, nn, _ = eq.log_residual(t, real_axis)
    if eq.dps is not None or two_point is not None or eq.q == 0 or eq.activation.d2_structure.kind == "discrete":
        return w, nn  # (a discrete law of D^2 has an exact rational m_K: nothing to check)
    check = Equation(eq.activation, eq.depth, eq.sigma_w2, eq.q, None, eq.mgf_method, mgf_check=True,
                     weights=eq.weights)
    conv = np.flatnonzero(status == Status.CONVERGED)
    if conv.size:
        with np.errstate(all="ignore"):
            G, _, _, _, _ = check.log_residual(t[conv], real_axis[conv])
        size = 1 + np.abs(t[conv]) + np.abs(real_axis[conv]) / eq.depth
        bad = ~(np.abs(G) <= 1e-9 * size)
        status[conv[bad]] = Status.INACCURATE_MGF
    return w, nn


def _real_root(eq: Equation, lam_b, t, status, outside):
    """Outside the support the root is real (u > 0, or u < 0 below a Marchenko-Pastur lower edge).

    Next to an edge the continuation's root carries an imaginary part of the
    order sqrt(eps) (a branch point is a double root): Im t is set to the
    nearest of 0 and -pi and Newton is rerun on the real axis, where it stays
    real; the point converges when |G| is again at rounding level.
    """
    from .solvers import _branch_check, _newton

    bk = eq.backend
    idx = np.flatnonzero(outside)
    t = t.copy()
    status = status.copy()
    snapped = bk.carray([mpmath.mpc(v.real, -mpmath.pi if v.imag < -1.5 else 0) if eq.dps is not None else
                         complex(v.real, -np.pi if v.imag < -1.5 else 0.0) for v in t[idx]])
    real_axis = bk.log_upper(bk.carray(lam_b[idx]))
    tt, ok, _ = _newton(eq, snapped, real_axis, 60, 0.0, keep_lower=False)
    t[idx] = tt
    status[idx] = np.where(ok, Status.CONVERGED, Status.NOT_CONVERGED)
    status[idx] = _branch_check(eq, tt, real_axis, status[idx])
    return t, status


def _outside_support(lam, sup, depth, two_point) -> np.ndarray:
    """lambda above lambda_max (and, for L = 1 with an atom, below the Marchenko-Pastur lower edge)."""
    lam = np.asarray(lam, dtype=float)
    out = lam > float(sup.lambda_max)
    if depth == 1 and two_point is not None and two_point[0] < 1:
        c, _ = two_point
        lower = float(sup.lambda_max) * ((1 - math.sqrt(c)) / (1 + math.sqrt(c))) ** 2
        out |= lam < lower
    return out


def _architecture(weights, widths, depth, sigma_w2):
    """The :class:`~rmtfp.spectrum.weights.Architecture`, or None for square Gaussian layers."""
    if weights is None and widths is None:
        return None
    from .weights import architecture

    arch = architecture(weights, widths, depth, sigma_w2)
    return None if arch.law.is_gaussian and arch.square else arch


def _reject_zero_inside(lam, dens, status, depth: int, lambda_max) -> None:
    """For L >= 2 the continuous part reaches down to 0 (docs/theory.md): a density of exactly 0 strictly
    inside (0, lambda_max) is an under/overflow, never the answer; nor is a density that is not a finite
    number.  Such points are marked NOT_CONVERGED in place."""
    top = float(lambda_max) * (1 - 1e-6) if depth >= 2 else -math.inf
    for i, (x, d) in enumerate(zip(lam, dens)):
        if status[i] == Status.CONVERGED and (not mpmath.isfinite(d) or (d == 0 and float(x) < top)):
            status[i] = Status.NOT_CONVERGED


def _check_options(method: str, per_layer: bool, options: dict) -> None:
    """Unknown keywords are named against the options ``density`` accepts for ``method``."""
    import inspect

    if not options:
        return
    from .layered import density_layered

    solver = {"auto": newton_continuation, "newton": newton_continuation, "polynomial": polynomial_roots,
              "iteration": papers_iteration}[method]
    if per_layer:
        solver = density_layered
    skip = {"eq", "lam", "depth", "s", "c", "v", "outside", "t_start", "log_lam", "activation", "qs", "sigma_w2"}
    allowed = [n for n, prm in inspect.signature(solver).parameters.items()
               if n not in skip and prm.kind is prm.POSITIONAL_OR_KEYWORD]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"density() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; with "
                        f"method={method!r}{' and per-layer q' if per_layer else ''} it accepts "
                        f"{', '.join(allowed) or 'no solver options'}")


def resolve_layered(activation, depth, q, sigma_w2, sigma_b2, dps=None):
    """Validate a per-layer q: returns (activation, depth, [q_1..q_L], sigma_w2)."""
    act = get(activation)
    depth = int_at_least("depth", depth, 1)
    qs = [_check_variance(f"q[{i}]", v, allow_zero=False) for i, v in enumerate(q)]
    if len(qs) != depth:
        raise ValueError(f"q must have one value per layer: got {len(qs)} values for depth={depth}")
    sigma_w2 = _check_variance("sigma_w2", sigma_w2, allow_zero=False)
    _check_variance("sigma_b2", sigma_b2, allow_zero=True)
    if dps is not None:
        raise ValueError("per-layer q is solved in float64 only; use dps=None")
    return act, depth, qs, sigma_w2


def _density_layered(lam, activation, depth, q, sigma_w2, sigma_b2, dps, method, mgf_method, options):
    """Layer-dependent laws K_l (one q per layer): see :mod:`rmtfp.spectrum.layered`."""
    from .layered import density_layered, support_layered

    act, depth, qs, sigma_w2 = resolve_layered(activation, depth, q, sigma_w2, sigma_b2, dps)
    if method not in ("auto", "newton") or mgf_method != "auto":
        raise ValueError("per-layer q is solved by method='newton' with the default m_K routes only")
    dens, w, status = density_layered(lam, act, qs, sigma_w2=sigma_w2, **options)
    lmax, atom = support_layered(act, qs, sigma_w2)
    params = dict(activation=act.name, depth=depth, sigma_w2=sigma_w2, sigma_b2=sigma_b2, q=list(qs),
                  q_source="given per layer", dps=None, method="newton", mgf_method="auto", **options)
    return DensityResult(lam, np.asarray(dens), np.asarray(w), np.asarray(status, dtype=np.int8), atom, lmax,
                         params)
