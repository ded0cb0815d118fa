"""Certified eigenvalue densities: the spectral equation in ball arithmetic (python-flint / Arb).

The scaled equation
-------------------
The unknown is ell = log u, u = sigma_w^2 z^{-1/L} (1+w)^{1/L} w^{1-1/L} the
argument of m_K, and w = B(u), 1 + w = A(u) are computed from u without
cancellation (:mod:`rmtfp.spectrum.arb`).  The equation w = m_K(u) becomes

    G(ell; z) = ell - log sigma_w^2 + (1/L) Log z - (1/L) log A(e^ell) - (1 - 1/L) log B(e^ell) = 0,

with the branch convention of :mod:`rmtfp.spectrum.equation` (log z principal,
arg z in [0, pi]; logs of w and 1 + w continued from the lower half-plane:
log x for Re x > 0, log(-x) - i pi for Re x < 0 or Im x < 0).  G is O(1) at
any depth and any lambda: ell ranges over |ell| <~ 700 for lambda in
[1e-300, lambda_max], 1 + w and Im w keep their relative accuracy, and Arb's
exponents do not overflow.  The density is rho = -Im B(e^ell) / (pi lambda).

Proof of a root (Krawczyk)
--------------------------
For a ball X around a point c and a set Z of z (a point, or a segment),
K = c - Y G(c; Z) + (1 - Y G'(X; Z)) (X - c) with Y ~ 1/G'(c).  If K lies in
the interior of X, then for every z in Z, X holds exactly one root, and it
lies in K.  Every log is checked not to touch its cut on the ball (else the
test fails), so G is analytic on X x Z.  G'(X) is the direct evaluation on X
intersected, for erf-type laws, with the centred form G'(c) + G''(X) (X - c)
(:meth:`ScaledEquation.dG_ball`; 5-15 times narrower there).

Proof of the branch
-------------------
The physical w(z) = int lambda/(z - lambda) dmu(lambda) lies in the disk
|w - m_1/z| <= m_2/(|z| eta) for z = lambda + i eta (m_1, m_2 the first two
moments of J J^T, exact balls).  At a large eta the image of that disk in
ell is shown to lie inside a Krawczyk ball: the physical root is the unique
root there.  The root is then carried down to eta = 0 along segments
[lambda + i eta_{k+1}, lambda + i eta_k] (each a Krawczyk test on the whole
segment whose ball contains the previous enclosure), and from one lambda to
the next along real segments [lambda_j, lambda_{j+1}], each tested on a thin
strip above it: the physical w(lambda_j + i eta) tends to the proven root as
eta -> 0, so it is the unique root in the ball on the strip, and its boundary
values along the segment are the roots there.  A test that fails is retried
on shorter pieces; when that fails too the point is reached by a new vertical
path.  What is not proven is reported as ``not_certified``.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .arb import ArbLaw, workprec

__all__ = ["ScaledEquation", "trace_roots", "refine", "density_enclosure", "logl"]

_MAX_VERTICAL = 400


def logl(x):
    """log x continued from the lower half-plane; a non-finite ball where the ball of x meets the cut."""
    from flint import acb, arb

    if x.real > 0:
        return x.log()
    if x.real < 0 or x.imag < 0:
        return (-x).log() - acb(0, arb.pi())
    return acb(arb.nan(), arb.nan())


def _point(x):
    """The midpoint of a ball as an exact acb."""
    from flint import acb
    return acb(x.mid())


class ScaledEquation:
    """G(ell; z) and dG/d ell for one law, depth and sigma_w^2 (module doc), at the current precision."""

    def __init__(self, law: ArbLaw, depth: int, sigma_w2):
        from flint import arb

        self.law = law
        self.L = int(depth)
        self.s2 = sigma_w2 if isinstance(sigma_w2, arb) else arb(sigma_w2)
        self.log_s2 = self.s2.log()

    def rhs(self, w, z):
        """ell(w) = log sigma_w^2 - Log z / L + log(1+w)/L + (1 - 1/L) log w (three separate powers)."""
        L = self.L
        r = self.log_s2 - z.log() / L + logl(1 + w) / L
        if L > 1:
            r += logl(w) * (L - 1) / L
        return r

    def G(self, ell, z):
        """(G, dG/d ell, A, B) at ell (a ball) and z (a ball)."""
        L = self.L
        u = ell.exp()
        A, B, dB, Bu = self.law.evaluate(u)
        g = ell - self.log_s2 + z.log() / L - logl(A) / L
        # dG/d ell = 1 - u B' (1/(L A) + (1 - 1/L)/B), with u/B = 1/(B/u)
        inv = u / (A * L)
        if L > 1:
            g -= logl(B) * (L - 1) / L
            inv += (L - 1) / (Bu * L)
        return g, 1 - dB * inv, A, B

    def dG_ball(self, X, c, dgc):
        """An enclosure of dG/d ell on the ball X around the point c (dgc: G'(c)); non-finite where A or B meets
        the cut of its log on X (G is then not analytic on X) or u the cut of m_K.

        The direct evaluation 1 - u B' (1/(L A) + (1 - 1/L)/B) on X, intersected, for erf-type (gaussian) laws,
        with the centred form G'(c) + G''(X) (X - c) (mean value theorem on the segments [c, y], y in X: the mean of
        G'' lies in the rectangle G''(X)), whose radius is |G''| r to first order where the direct form, with u,
        A, B' and B/u each on the ball, is 5-15 times wider.  With b1 = u B', b2 = b1 + u^2 B'' the ell
        derivatives of B, p = b1/A and s = b1/B = B'/(B/u):

            G'' = -(1/L) (p + u (u B'')/A - p^2) - (1 - 1/L) (s + (u B'')/(B/u) - s^2).
        """
        from flint import acb, arb

        L = self.L
        u = X.exp()
        # the centred form where it pays (for discrete laws, whose m_K is rational, it adds work, not proofs)
        A, B, dB, Bu, uddB = self.law.evaluate(u, second=True) if self.law.kind == "gaussian" else \
            (*self.law.evaluate(u), None)
        if not (logl(A).is_finite() and (L == 1 or logl(B).is_finite())):
            return acb(arb.nan(), arb.nan())
        p = u * dB / A
        s = dB / Bu if L > 1 else None  # (B/u need not be nonzero at L = 1)
        direct = 1 - p / L - (s * (L - 1) / L if L > 1 else 0)
        if uddB is None or not direct.is_finite():
            return direct
        g2 = -(p + u * uddB / A - p * p) / L - ((s + uddB / Bu - s * s) * (L - 1) / L if L > 1 else 0)
        centred = dgc + g2 * (X - c)
        if not centred.is_finite():
            return direct
        try:
            return acb(direct.real.intersection(centred.real), direct.imag.intersection(centred.imag))
        except ValueError:  # two enclosures of the same set cannot be disjoint
            raise RuntimeError(f"internal: disjoint enclosures of G' on {X}: {direct} and {centred}") from None

    def moments(self):
        """(m_1, m_2) of J J^T: m_1 = (sigma_w^2 E D^2)^L, m_2 = m_1^2 (1 + L E[D^4]/E[D^2]^2)."""
        d1, d2 = self.law.moment(1), self.law.moment(2)
        m1 = (self.s2 * d1) ** self.L
        return m1, m1 * m1 * (1 + self.L * d2 / (d1 * d1))


def _newton(eq: ScaledEquation, ell, z, maxit: int = 40):
    """Newton on G from ell at the point z; (ell, |last step|, G' before it), or Nones when it does not settle.

    Converged when the step is below 2^-(prec-6) (1 + |ell|) or below 8 times the step that the radius of the
    ball of G allows (|G'| ~ 1/L is small at large depth: the rounding of G then sets the attainable accuracy).
    """
    from flint import arb, ctx

    tol = arb(2) ** (-ctx.prec + 6)
    step_prev = math.inf
    for _ in range(maxit):
        g, dg, _, _ = eq.G(ell, z)
        if not (g.is_finite() and dg.is_finite()) or dg.is_zero():
            return None, None, None
        step = _point(g / dg)
        # damp steps that grow (far from the root)
        s_arb = abs(step.mid())
        s = float(s_arb)
        if s > 0.5:
            step = step * (0.5 / s)
        ell = _point(ell - step)
        noise = (g.real.rad() + g.imag.rad()) / abs(dg.mid())
        if s_arb <= tol * (1 + abs(ell.mid())) or s_arb <= 8 * noise:
            return ell, s, dg
        if s > step_prev * 4 and s < 1e-3:
            return None, None, None
        step_prev = s
    return None, None, None


def _krawczyk(eq: ScaledEquation, c, r: float, Z, at_c=None):
    """The Krawczyk set K for the ball of radius r around c, on every z in Z; (K, X) or (None, X).

    ``at_c``: (G, G') at c on Z, where already evaluated.
    """
    from flint import acb, arb

    X = c + acb(arb(0, r), arb(0, r))
    gc, dgc = at_c if at_c is not None else eq.G(c, Z)[:2]
    if not (gc.is_finite() and dgc.is_finite()) or dgc.mid().is_zero():
        return None, X
    dgx = eq.dG_ball(X, c, dgc)
    if not dgx.is_finite():
        return None, X
    Y = _point(1 / dgc.mid())
    K = c - Y * gc + (1 - Y * dgx) * (X - c)
    if K.is_finite() and X.contains_interior(K):
        return K, X
    return None, X


def _prove_point(eq: ScaledEquation, ell, z, outer=None, step: Optional[float] = None, at_ell=None, tries: int = 3):
    """Prove the root near ell at the point z; the ball must lie in ``outer`` (if given). Returns K or None.

    ``step``: the size of the Newton step at ell if known (sets the radius of the first ball tried);
    ``at_ell``: (G, G') at ell and z, where already evaluated; ``tries``: radii tried (growing 64-fold).
    """
    from flint import acb, arb, ctx

    scale = 1 + abs(complex(ell.mid()))
    if at_ell is None and step is None:
        at_ell = eq.G(ell, z)[:2]
    if step is None:
        g, dg = at_ell
        if not (g.is_finite() and dg.is_finite()) or dg.mid().is_zero():
            return None
        step = abs(complex((g / dg).mid())) + float((g.real.rad() + g.imag.rad()) / abs(dg.mid()))
    # the radius as an exact arb: 2^-prec underflows a float beyond ~1000 bits
    floor = arb(scale) * arb(2) ** (-ctx.prec + 12)
    r = arb(4 * step) if 4 * step > float(floor.mid()) else floor
    for _ in range(tries):
        if outer is not None and not outer.contains(ell + acb(arb(0, r), arb(0, r))):
            return None  # the ball (and every larger one) leaves ``outer``: no test
        K, X = _krawczyk(eq, ell, r, z, at_ell)
        if K is not None:
            return K
        r *= 64
    return None


def _seg(za: complex, zb: complex):
    """A ball (rectangle) containing the segment [za, zb].

    A segment on the real axis gets a thin strip above it (Im z up to 1e-3 |zb - za|): the boundary value
    w(lambda + i0) is identified with the root in the ball through the points just above the axis, where the
    physical w is analytic (module doc).
    """
    from flint import acb, arb

    re = arb(za.real).union(arb(zb.real))
    im = arb(za.imag).union(arb(zb.imag))
    if za.imag == zb.imag == 0.0:
        im = im.union(arb(1e-3 * abs(zb - za)))
    return acb(re, im)


_D_MAX = 0.12  # largest move of ell over one certified piece (rectangle arithmetic overestimates G' on wider balls)


def _step(eq: ScaledEquation, ell_a, E_a, za: complex, zb: complex, certify: bool, dg_a=None):
    """Carry the root from za (approximation ell_a, enclosure E_a or None) to zb along _interp.

    Pieces of adaptive length, each with an Euler predictor, a Krawczyk test
    on the whole piece (certify) and one Newton correction at its end; at zb
    Newton to convergence and a tight proof.  Returns (ell_b, E_b), E_b None
    when not certified, ell_b None when the path was lost; also G' near
    ell_b (for the next predictor).  ``dg_a``: G' near ell_a, if known.
    """
    from flint import acb

    certify = certify and E_a is not None
    d_max = _D_MAX if certify else 0.5
    t, ell, E = 0.0, ell_a, E_a
    z = za
    dg = dg_a if dg_a is not None else eq.G(ell, acb(z))[1]
    h = 1.0
    X_last = None
    for _ in range(4000):
        if t >= 1.0:
            break
        if not (dg.is_finite() and not dg.mid().is_zero()):
            return None, None, None
        slope = -(1 / (acb(z) * eq.L)) / dg  # d ell/dz
        while True:
            t1 = min(1.0, t + h)
            z1 = zb if t1 >= 1.0 else _interp(za, zb, t1)
            pred = _point(ell + slope * acb(z1 - z))
            d = abs(complex((pred - ell).mid()))
            if d <= d_max or h < 1e-12:
                break
            h *= 0.9 * d_max / d
        if h < 1e-12:
            return None, None, None
        if certify:
            zm = _interp(z, z1, 0.5)
            c = _point(ell + slope * acb(zm - z))
            off = complex((E - c).mid())
            r = max(0.75 * d, 1.25 * (max(abs(off.real), abs(off.imag)) + _rad(E))) + 1e-300
            K, X = _krawczyk(eq, c, r, _seg(z, z1))
            if K is None or not X.contains(E):
                h *= 0.5
                continue
            E, X_last = K, X
        # one Newton correction at z1 (to convergence at the end of the path)
        g, dg1, _, _ = eq.G(pred, acb(z1))
        if not (g.is_finite() and dg1.is_finite()) or dg1.mid().is_zero():
            if certify:
                return None, None, None
            h *= 0.5
            continue
        new = _point(pred - g / dg1)
        if not certify and abs(complex((new - pred).mid())) > 0.25 * d + 1e-12:
            h *= 0.5  # the predictor was poor: shorter piece
            continue
        if certify and _rad(E) > 1e-3 * d and t1 < 1.0:
            # tighten the enclosure at z1 (a wide one would force wide balls on the next piece): a ball around
            # pred, where G is known, of 4 times the Newton step; else around the Newton point
            E_t = (_prove_point(eq, pred, acb(z1), outer=X_last, at_ell=(g, dg1), tries=1)
                   or _prove_point(eq, new, acb(z1), outer=X_last))
            if E_t is not None:
                E = E_t
        ell, dg, z, t = new, dg1, z1, t1
        h *= 1.5
    if t < 1.0:
        return None, None, None
    ell_b, s, dg_b = _newton(eq, ell, acb(zb))
    if ell_b is None:
        return None, None, None
    if not certify:
        return ell_b, None, dg_b
    E_b = _prove_point(eq, ell_b, acb(zb), outer=X_last, step=s)
    return ell_b, E_b, dg_b


def _interp(za: complex, zb: complex, t: float) -> complex:
    """The point at fraction t from za to zb: geometric along a vertical or horizontal line away from 0."""
    if za.real == zb.real and za.imag > 0 and zb.imag > 0:
        return complex(za.real, za.imag * (zb.imag / za.imag) ** t)
    if za.imag == zb.imag == 0 and za.real > 0 and zb.real > 0:
        return complex(za.real * (zb.real / za.real) ** t, 0.0)
    return za + (zb - za) * t


def _rad(E) -> float:
    return float(max(E.real.rad(), E.imag.rad()))


def _vertical(eq: ScaledEquation, lam: float, certify: bool, m1, m2):
    """Root at lambda + i0 by a path from a large eta; (ell, E, G') with E None when not proven."""
    from flint import acb, arb

    m1f, m2f = float(m1.mid()), float(m2.mid())
    eta = max(64 * m2f / m1f, 4 * lam, 1e-300)
    z = complex(lam, eta)
    w0 = m1f / z + m2f / z**2
    ell, _, dg = _newton(eq, _point(eq.rhs(acb(w0), acb(z))), acb(z))
    if ell is None:
        return None, None, None
    E = None
    if certify:
        zb = acb(z)
        D = m1 / zb + acb(arb(0, 1), arb(0, 1)) * (m2 / (abs(z) * arb(eta))).upper()  # the disk of the physical w
        img = eq.rhs(D, zb)
        if img.is_finite():
            r = 1.25 * (abs(complex((img - ell).mid())) + _rad(img)) + 1e-300
            K, X = _krawczyk(eq, ell, r, zb)
            if K is not None and X.contains(img):
                E = _prove_point(eq, ell, zb, outer=X) or K
    ratio = 0.25
    for _ in range(_MAX_VERTICAL):
        final = eta <= lam / 8
        target = 0.0 if final else max(eta * ratio, lam / 16)
        ell_b, E_b, dg_b = _step(eq, ell, E, complex(lam, eta), complex(lam, target), certify, dg)
        if ell_b is None:
            return None, None, None
        if certify and E is not None and E_b is None:
            if final:  # the real axis is not reached yet: go on down
                final = False
                target = eta / 4
                ell_b, E_b, dg_b = _step(eq, ell, E, complex(lam, eta), complex(lam, target), certify, dg)
                if ell_b is None:
                    return None, None, None
                if E_b is None:
                    return (ell_b, None, dg_b) if target == 0 else (None, None, None)
        d = abs(complex((ell_b - ell).mid()))
        ell, E, eta, dg = ell_b, E_b, target, dg_b
        if eta == 0.0:
            return ell, E, dg
        # next ratio: a move of ell of about 2 (the step is then cut into ~8 certified pieces)
        ratio = min(max(ratio ** (2 / max(d, 1e-3)), 1e-8), 0.5)
    return None, None, None


def trace_roots(eq: ScaledEquation, lam: np.ndarray, certify: bool):
    """Roots ell at every lambda + i0 (any order); returns (ell list, enclosure list, proven bool array).

    Points are visited in increasing lambda: each is reached from the last
    one along the real axis, or by a vertical path when that fails.
    """
    order = np.argsort(lam)
    n = len(lam)
    ells = [None] * n
    encl = [None] * n
    m1, m2 = eq.moments()
    prev = None  # (lambda, ell, E, G')
    for i in order:
        x = float(lam[i])
        ell = E = None
        if prev is not None:
            ell, E, dg = _step(eq, prev[1], prev[2], complex(prev[0], 0.0), complex(x, 0.0), certify, prev[3])
            if certify and E is None:
                ell = None
        if ell is None:
            ell, E, dg = _vertical(eq, x, certify, m1, m2)
        ells[i], encl[i] = ell, E
        prev = (x, ell, E, dg) if ell is not None else None
    proven = np.array([e is not None for e in encl], dtype=bool)
    return ells, encl, proven


def refine(eq: ScaledEquation, ell, z, prec: int, outer=None, certify: bool = False, start_bits: int = 48):
    """Newton from ell (good to ``start_bits``) to ``prec`` bits; with certify, a Krawczyk ball inside ``outer``.

    One Newton step per doubling of the precision.  The last step must be at
    the level of the accuracy its input had (quadratic convergence: the
    error after it is at the rounding level); otherwise plain Newton at
    ``prec``.  Returns (ell, K), K None unless certified, ell None when
    Newton failed.
    """
    from flint import acb, arb

    zb = acb(z)
    p, p_in, s = start_bits, start_bits, None
    while p < prec:
        p_in, p = p, min(2 * p, prec)
        with workprec(p + 8):
            g, dg, _, _ = eq.G(ell, zb)
            if not (g.is_finite() and dg.is_finite()) or dg.mid().is_zero():
                return None, None
            step = _point(g / dg)
            s = abs(step.mid())
            ell = _point(ell - step)
    with workprec(prec):
        if s is None or s > arb(2) ** (-p_in + 8) * (1 + abs(ell.mid())):
            ell, _, _ = _newton(eq, ell, zb, maxit=8)
            if ell is None:
                return None, None
        if not certify:
            return ell, None
        return ell, _prove_point(eq, ell, zb, outer=outer, step=0.0)


def density_enclosure(eq: ScaledEquation, E, lam: float):
    """(rho ball, w ball) from an enclosure E of ell at z = lambda."""
    from flint import arb

    _, B, _, _ = eq.law.evaluate(E.exp(), need_a=False)
    rho = -B.imag / (arb.pi() * arb(lam))
    return rho, B
