"""Symbolic derivation of the law of D^2 = phi'(h)^2, h ~ N(0, q).

Three families are recognised from the sympy expression of phi alone:

``discrete``
    phi' is piecewise constant (linear, ReLU, hard-tanh, leaky ReLU, ...).
    D^2 takes finitely many values v_i with probabilities p_i(q), the
    Gaussian measures of the sets where phi'^2 = v_i.  Then
    ``m_K(u) = sum_i p_i v_i u / (1 - v_i u)``.
``gaussian``
    phi'(x)^2 = A exp(-alpha x^2) (erf-type activations).  Then
    ``E[D^{2k}] = A^k (1 + 2 alpha k q)^{-1/2}`` and
    ``m_K(u) = A u (2 alpha q)^{-1/2} Phi(A u, 1/2, 1 + 1/(2 alpha q))``,
    Phi the Lerch transcendent.
``generic``
    anything else (tanh, sigmoid, ...): no closed form; m_K is computed by
    quadrature.  Break points of a piecewise phi' are kept for the
    quadrature panels.

The derivation is data: :class:`D2Structure` holds exact sympy expressions,
and numerical routes are built from it.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import sympy as sp

__all__ = ["D2Structure", "derive_d2_structure", "gaussian_measure", "U", "Q", "K"]

#: symbols used in derived expressions: the argument of m_K, the variance q,
#: and the moment order k.
U = sp.Symbol("u")
Q = sp.Symbol("q", positive=True)
K = sp.Symbol("k", positive=True, integer=True)


@dataclasses.dataclass(frozen=True)
class D2Structure:
    """Exact description of the law of D^2 for one activation.

    Attributes
    ----------
    kind : {"discrete", "gaussian", "generic"}
    values : tuple of sympy.Expr
        ``discrete``: the distinct values v_i of D^2 (v_i > 0 only; the
        remaining mass sits at 0).
    probabilities : tuple of sympy.Expr
        ``discrete``: p_i(q), exact expressions in :data:`Q`.
    zero_probability : sympy.Expr
        P(D^2 = 0) as an expression in :data:`Q` (the atom of the spectrum).
    amplitude, alpha : sympy.Expr or None
        ``gaussian``: phi'^2 = amplitude * exp(-alpha x^2).
    breakpoints : tuple of sympy.Expr
        Finite points where phi' is not smooth (quadrature panel edges).
    """

    kind: str
    values: tuple = ()
    probabilities: tuple = ()
    zero_probability: sp.Expr = sp.S.Zero
    amplitude: Optional[sp.Expr] = None
    alpha: Optional[sp.Expr] = None
    breakpoints: tuple = ()

    @property
    def depends_on_q(self) -> bool:
        """Whether the law of D^2 changes with q."""
        if self.kind == "discrete":
            return any(p.has(Q) for p in self.probabilities) or self.zero_probability.has(Q)
        return True

    def moment_expr(self) -> Optional[sp.Expr]:
        """E[D^{2k}] as an expression in :data:`K` and :data:`Q`, if exact."""
        if self.kind == "discrete":
            return sp.Add(*[p * v**K for v, p in zip(self.values, self.probabilities)])
        if self.kind == "gaussian":
            return self.amplitude**K / sp.sqrt(1 + 2 * self.alpha * K * Q)
        return None

    def mgf_expr(self) -> Optional[sp.Expr]:
        """m_K(u) = sum_{k>=1} E[D^{2k}] u^k in closed form, if one exists."""
        if self.kind == "discrete":
            return sp.Add(*[p * v * U / (1 - v * U) for v, p in zip(self.values, self.probabilities)])
        if self.kind == "gaussian":
            A, a2q = self.amplitude, 2 * self.alpha * Q
            return A * U / sp.sqrt(a2q) * sp.lerchphi(A * U, sp.S.Half, 1 + 1 / a2q)
        return None


def gaussian_measure(s: sp.Set, q: sp.Expr = Q) -> sp.Expr:
    """P(h in s) for h ~ N(0, q), exactly, for a finite union of intervals."""
    if s is sp.S.EmptySet or isinstance(s, sp.FiniteSet):
        return sp.S.Zero
    if isinstance(s, sp.Union):
        return sp.Add(*[gaussian_measure(part, q) for part in s.args])
    if s == sp.S.Reals:
        return sp.S.One
    if isinstance(s, sp.Interval):
        def cdf(t: sp.Expr) -> sp.Expr:
            if t is sp.S.Infinity:
                return sp.S.One
            if t is sp.S.NegativeInfinity:
                return sp.S.Zero
            return (1 + sp.erf(t / sp.sqrt(2 * q))) / 2
        return sp.simplify(cdf(s.end) - cdf(s.start))
    raise NotImplementedError(f"cannot integrate the Gaussian law over {s}")


def _set_breakpoints(s: sp.Set) -> list:
    pts = []
    for part in (s.args if isinstance(s, sp.Union) else (s,)):
        if isinstance(part, sp.Interval):
            pts += [e for e in (part.start, part.end) if e.is_finite]
        elif isinstance(part, sp.FiniteSet):
            pts += list(part.args)
    return pts


def _piecewise_pieces(d: sp.Expr, x: sp.Symbol):
    """Split a piecewise phi' into (expression, set) pieces, or None."""
    if not d.has(x):
        return [(d, sp.S.Reals)]
    try:
        p = sp.piecewise_fold(d.rewrite(sp.Piecewise))
    except Exception:  # pragma: no cover - sympy internals
        return None
    if not isinstance(p, sp.Piecewise):
        return None
    pieces, covered = [], sp.S.EmptySet
    for expr, cond in p.args:
        base = sp.S.Reals if cond is sp.true else cond.as_set()
        s = sp.Intersection(base, sp.S.Reals) - covered
        covered = covered | s
        if s is sp.S.EmptySet:
            continue
        pieces.append((expr, s))
    return pieces


def derive_d2_structure(phi: sp.Expr, x: sp.Symbol) -> D2Structure:
    """Derive the law of D^2 = phi'(h)^2 from the sympy expression of phi."""
    d = sp.diff(phi, x)
    pieces = _piecewise_pieces(d, x)
    if pieces is not None:
        breakpoints = sorted({b for _, s in pieces for b in _set_breakpoints(s)}, key=float)
        if all(not e.has(x) for e, _ in pieces):
            by_value: dict = {}
            for e, s in pieces:
                v = sp.nsimplify(e**2) if e.is_Float else sp.simplify(e**2)
                by_value.setdefault(v, []).append(s)
            values, probs = [], []
            zero_p = sp.S.Zero
            for v, sets in by_value.items():
                p = sp.simplify(sp.Add(*[gaussian_measure(s) for s in sets]))
                if p == 0:
                    continue
                if v == 0:
                    zero_p = p
                else:
                    values.append(v)
                    probs.append(p)
            return D2Structure("discrete", tuple(values), tuple(probs), zero_p,
                               breakpoints=tuple(breakpoints))
        return D2Structure("generic", breakpoints=tuple(breakpoints))
    # Gaussian type: log(phi'^2) = c0 - alpha x^2
    try:
        logd2 = sp.expand(sp.expand_log(sp.simplify(sp.log(d**2)), force=True))
        poly = sp.Poly(logd2, x)
    except (sp.PolynomialError, sp.GeneratorsNeeded, Exception):
        poly = None
    if poly is not None and poly.degree() == 2:
        c2, c1, c0 = (poly.coeff_monomial(x**2), poly.coeff_monomial(x), poly.coeff_monomial(1))
        if c1 == 0 and (-c2).is_positive:
            return D2Structure("gaussian", amplitude=sp.simplify(sp.exp(c0)), alpha=sp.simplify(-c2))
    return D2Structure("generic")
