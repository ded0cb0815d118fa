"""The Lerch transcendent Phi(x, +-1/2, a) (and Phi(x, -3/2, a)) in Arb, fast on a grid of x (fixed a and precision).

The Gaussian (erf-type) law of D^2 needs Phi(x, 1/2, a), Phi(x, -1/2, a) and
Phi(x, 1/2, a - 1) at every evaluation of the spectral equation, for one a
and many x.  ``acb.lerch_phi`` costs 10-600 ms a call at 200 digits once
|x| > 1/2; here everything that depends on a only is computed once, and an
evaluation is a polynomial in x or in log x, summed by Arb in C.  Every value
is a ball that contains the exact value (truncation bounds below).

Regions (x in C minus [1, inf), principal branch)
-------------------------------------------------
``|x| <= 1/2``: the defining series, N terms,

    Phi(x, s, a) = sum_{n<N} x^n (n + a)^{-s} + R,
    |R| <= (N + a)^{|s|} r^N / (1 - r sqrt(1 + 1/(N + a))),  r = |x|.

``|log x| <= rho`` (rho = 4.5 above 256 bits, 5.5 at most 256 bits; < 2 pi): the expansion in w = log x
(Erdelyi, Higher Transcendental Functions I, 1.11(8)),

    Phi(e^w, s, a) = e^{-a w} (Gamma(1 - s) (-w)^{s-1} + F(w)),  F(w) = sum_k zeta(s - k, a) w^k / k!,

with s = 1/2; the w-derivative of e^{a w} Phi(e^w, s, a) is e^{a w} Phi(e^w, s - 1, a),
so Phi(e^w, -1/2, a) = e^{-a w} (Gamma(3/2) (-w)^{-3/2} + F'(w)).
The Hurwitz zeta values at negative half-integers are obtained from
Riemann zeta values by the Taylor expansion in the shift,
a = b + m, b = 1 + delta, |delta| <= 1/2:

    Gamma(1/2 - k) zeta(1/2 - k, 1 + delta) = sum_{j>=0} Y(k - j) (-delta)^j / j!,
    Y(n) = Gamma(1/2 - n) zeta(1/2 - n),

a convolution (one polynomial product), then
zeta(1/2 - k, a) = zeta(1/2 - k, b) - sum_{i<m} (b + i)^{k-1/2}.  The j-sum is
cut at J >= K with the bound |tail| <= zeta(3/2) |delta|^{J+1} / ((1 - |delta|) k!)
(for j > k: |Y(k - j)| <= Gamma(j - k + 1/2) zeta(3/2) and
Gamma(j - k + 1/2) / j! <= 1/k!).  The k-sum is cut at K with Hurwitz's
bound |zeta(1/2 - k, b')| <= 2 Gamma(k + 1/2) zeta(3/2) / (2 pi)^{k+1/2}
for 0 < b' <= 1, k >= 1, and zeta(1/2 - k, a) = zeta(1/2 - k, b') - sum (b' + i)^{k-1/2}
over the a - b' terms below a, each <= (a - 1)^{k - 1/2}.

The number of terms K grows like prec / log2(2 pi / rho): the wider radius
at low precision (the path-following and the proofs, 64 bits) costs little.
The sums are also kept cut at the K that the radii 1.5, 3 and 4.5 need, and
an evaluation at |log x| = r uses the shortest one whose radius is >= r (its
truncation bound taken at r).
The factor e^{-a w} meets terms of size up to e^{a |w|}: up to 2 a |w| log2 e
bits cancel.  The radius is therefore also capped at 64 such bits
(rho <= 64 / (2 a log2 e): it shrinks for large a, i.e. small q*), the
one-time work carries them as guard bits, and an evaluation losing more than
16 of them runs at that many more bits.  (On a ball of a the result widens by
the same factor: ball arithmetic does not see the cancellation.)
Phi(x, -3/2, a) (second derivatives, :meth:`LerchHalf.values2`) is the series with (n + a)^{3/2}, tail
(N + a)^{3/2} r^N / (1 - r (1 + 1/(N + a))^{3/2}), and e^{-a w} (Gamma(5/2) (-w)^{-5/2} + F''(w)).

Wide balls of x (the Krawczyk balls of the certified route) get the centred
(mean-value) form: p(x_c) + p'(X) (X - x_c) for the series, and for the log
expansion e^{-a w_c} h(w_c) + f'(W) (W - w_c) with f = e^{-a w} h, h the bracket
above without its truncation bound (which is added as e^{-a W} t): the terms of
F, up to e^{a |w|} in size, cancel, and Horner on a ball would carry the sum of
their moduli into the radius (5-50 times the radius of the exact image at
a ~ 1.56); the centred form is tight to first order in the radius.
Elsewhere (|x| > 1/2 and |log x| > rho)
:meth:`LerchHalf.phi` returns None and the caller uses ``acb.lerch_phi``.
"""

from __future__ import annotations

import math

from .arb_common import workprec

__all__ = ["LerchHalf", "lerch_half_arb", "RHO", "RHO_LOW_PREC", "DIRECT_RADIUS"]

#: radius in w = log x of the log expansion (its radius of convergence is 2 pi), above and up to 256 bits
RHO = 4.5
RHO_LOW_PREC = 5.5
#: radius in x of the defining series
DIRECT_RADIUS = 0.5
_ZETA_3_2 = 2.6124  # zeta(3/2) = 2.61237..., rounded up
_GUARD = 20  # guard bits of the one-time work
#: bits the log expansion may lose to the factor e^{-a w} against terms of size e^{a |w|} (at most
#: 2 a |w| log2 e); the region shrinks for large a so that this stays below _MAX_LOSS (acb.lerch_phi beyond)
_MAX_LOSS = 64
#: of those, the bits the callers' own guard bits absorb (flint dps: 10 digits; proofs: balls); beyond, the
#: evaluation runs at that many more bits
_FREE_LOSS = 16
_LOG2E = math.log2(math.e)


def _err(t):
    """The complex ball [-t, t] + [-t, t] i of a bound t (an arb)."""
    from flint import acb, arb

    e = arb(0, t.upper())
    return acb(e, e)


class LerchHalf:
    """Phi(x, 1/2, a), Phi(x, -1/2, a) and Phi(x, 1/2, a - 1) for one a (an arb ball, a > 1) at ``prec`` bits.

    ``a_minus_1``: the ball a - 1 where it is known more accurately than
    ``a - 1`` (a close to 1); ``a`` is then ``1 + a_minus_1``.
    """

    def __init__(self, a, prec: int, a_minus_1=None):
        from flint import arb

        self.prec = int(prec)
        self._log_ready = False
        with workprec(self.prec + _GUARD):
            if a_minus_1 is not None:
                self.am1 = a_minus_1 if isinstance(a_minus_1, arb) else arb(a_minus_1)
                self.a = 1 + self.am1
            else:
                self.a = a if isinstance(a, arb) else arb(a)
                self.am1 = self.a - 1
            if not (self.am1 > 0):
                raise ValueError(f"a must be > 1 (a ball above 1), got {self.a}")
            self._direct()
        rho = RHO if self.prec > 256 else RHO_LOW_PREC
        self.rho = min(rho, _MAX_LOSS / (2 * _LOG2E * float(self.a.upper())))

    def _loss(self, r: float) -> int:
        """Bits the log expansion may lose at |log x| = r (module doc): 2 a r log2 e."""
        return int(math.ceil(2 * _LOG2E * float(self.a.upper()) * r))

    def _ensure_log(self):
        """The expansion in log x is built on first use (its zeta values are most of the one-time cost)."""
        if not self._log_ready:
            with workprec(self.prec + _GUARD + self._loss(self.rho)):
                self._logseries()
            self._log_ready = True

    # ---------------------------------------------------------------- |x| <= 1/2
    def _direct(self):
        from flint import arb, arb_poly

        # r^N (N + a)^{1/2} <= 2^-(prec + 10) at r = 1/2
        bits = self.prec + 10 + 0.5 * math.log2(self.prec + 10 + float(self.a.mid()) + 1)
        n = int(math.ceil(bits / -math.log2(DIRECT_RADIUS))) + 2
        self.n_direct = n
        roots = [(arb(k) + self.a).sqrt() for k in range(n)]  # sqrt(n + a)
        self.p_half = arb_poly([1 / s for s in roots])
        self.p_mhalf = arb_poly(roots)
        self.p_half_m1 = arb_poly([1 / self.am1.sqrt()] + [1 / s for s in roots[:-1]])
        self.p_m3half = arb_poly([s ** 3 for s in roots])  # Phi(x, -3/2, a), for second derivatives
        self.dp = tuple(p.derivative() for p in (self.p_half, self.p_mhalf, self.p_half_m1, self.p_m3half))
        r = DIRECT_RADIUS
        self._direct_err = tuple(_err(self._direct_tail(r, e, sh))
                                 for e, sh in ((-0.5, 0.0), (0.5, 0.0), (-0.5, -1.0), (1.5, 0.0)))

    def _direct_tail(self, r: float, e: float, shift: float):
        """Bound of sum_{n>=N} r^n (n + a + shift)^e, e = -1/2, 1/2 or 3/2: at most (N + a)^e r^N / (1 - q), the
        ratio of consecutive terms at most q = r (1 + 1/(N + a))^e (r for e < 0)."""
        from flint import arb

        N = self.n_direct
        A = (float(self.a.upper()) if e > 0 else float(self.a.lower())) + shift
        base = max(N + A, 1e-300)
        q = r * (1 + 1 / base) ** e if e > 0 else r
        if q >= 1:
            return None
        return arb(base ** e * r ** N / (1 - q)) * arb("1.000001")

    # ------------------------------------------------------------ |log x| <= RHO
    def _logseries(self):
        from flint import acb, arb, arb_poly

        K = self._terms(self.rho)
        J = max(K, self.prec + 30)
        m = max(int(math.floor(float(self.a.mid()) - 0.5)), 0)
        self.m = m
        b = self.a - m
        delta = b - 1
        dl = float(abs(delta).upper())
        if dl > 0.75:
            raise ValueError(f"internal: shift {delta} out of range")
        # Y(n) = Gamma(1/2 - n) zeta(1/2 - n) for n in [-J, K]; index i = n + J
        half = arb(1) / 2
        Y = [None] * (K + J + 1)
        g = arb.pi().sqrt()  # Gamma(1/2)
        Y[J] = g * acb(half).zeta().real
        gk = g
        for n in range(1, K + 1):  # Gamma(1/2 - n) = Gamma(3/2 - n) / (1/2 - n)
            gk = gk / (half - n)
            Y[J + n] = gk * acb(half - n).zeta().real
        gk = g
        for n in range(1, J + 1):  # Gamma(1/2 + n) = (n - 1/2) Gamma(n - 1/2)
            gk = gk * (n - half)
            Y[J - n] = gk * acb(half + n).zeta().real
        e = [arb(1)]
        md = -delta
        for j in range(1, J + 1):
            e.append(e[-1] * md / j)
        prod = arb_poly(Y) * arb_poly(e)
        coeffs = prod.coeffs()
        zb = []
        gk = g
        fact = arb(1)
        tail_j = arb(_ZETA_3_2) * arb(dl) ** (J + 1) / (1 - arb(dl))
        for k in range(K + 1):
            if k:
                gk = gk / (half - k)
                fact = fact * k
            T = coeffs[k + J] + arb(0, (tail_j / fact).upper())
            zb.append(T / gk)  # zeta(1/2 - k, b)
        # zeta(1/2 - k, a) = zeta(1/2 - k, b) - sum_{i<m} (b + i)^{k - 1/2}
        c = []
        pw = [1 / (b + i).sqrt() for i in range(m)]
        fact = arb(1)
        for k in range(K + 1):
            if k:
                fact = fact * k
                pw = [p * (b + i) for i, p in enumerate(pw)]
            c.append((zb[k] - sum(pw, arb(0))) / fact)
        # a - 1: zeta(1/2 - k, a - 1) = zeta(1/2 - k, a) + (a - 1)^{k - 1/2}
        am1b = self.am1
        t = 1 / am1b.sqrt()
        c1 = []
        fact = arb(1)
        for k in range(K + 1):
            if k:
                fact = fact * k
                t = t * am1b
            c1.append(c[k] + t / fact)
        # the sums cut where |w| <= r needs them, each with its truncation bounds at |w| = r
        self._pieces = []
        for r in sorted({1.5, 3.0, 4.5, self.rho}):
            if r <= self.rho:
                Kr = min(K, self._terms(r))
                F = arb_poly(c[:Kr + 1])
                # truncation bounds at |w| = r hold for every |w| <= r (they increase with r)
                tails = [_err(self._log_tail(r, d, e, Kr)) for d, e in ((0, False), (1, False), (0, True), (2, False))]
                dF, F1 = F.derivative(), arb_poly(c1[:Kr + 1])
                ddF = dF.derivative()
                self._pieces.append((r, Kr, (F, dF, F1), (ddF, F1.derivative(), ddF.derivative()), *tails))
        self.gamma_half = g
        self.gamma_3half = g / 2
        self.gamma_5half = 3 * g / 4
        self.gamma_7half = 15 * g / 8

    def _terms(self, r: float) -> int:
        """K such that the sums cut at K are good to 2^-(prec + 16 + loss) for |w| <= r (module doc)."""
        bits = self.prec + 16 + self._loss(r)
        K = int(math.ceil(bits / -math.log2(r / (2 * math.pi))))
        # the exp-type part of the tail, ~ (m + 2) (a - 1)^{+-1/2} x^K / K!, x = (a - 1) r, must be as small
        A1 = max(float(self.am1.upper()), 1e-300)
        x = A1 * r
        K = max(K, int(math.ceil(2 * x)) + 1)
        scale = math.log(2 * (float(self.a.upper()) + 2)) + 0.5 * abs(math.log(A1))
        while K * math.log(x) - math.lgamma(K + 1) + scale > -bits * math.log(2):
            K += 1
        return K

    def _log_tail(self, r: float, derivative: int, extra_shift: bool, K: int):
        """Bound of the k-sum beyond K at |w| <= r (module doc) of F (derivative 0), F' (1) or F'' (2).

        F'': term k is at most 2 zeta(3/2) / sqrt(2 pi) Gamma(k + 1/2) / Gamma(k - 1) q^k / r^2 <= C k^{3/2} q^k / r^2
        (Gamma(k + 1/2) / Gamma(k) <= sqrt(k)), q = r / (2 pi), and the terms (b' + i)^{k-1/2} give
        nterms (a - 1)^{3/2} sum_{j >= K-1} x^j / j! <= 2 nterms (a - 1)^{3/2} x^{K-1} / (K-1)! for K >= 2 x.
        """
        from flint import arb

        q = r / (2 * math.pi)
        A1 = max(float(self.am1.upper()), 1e-300)
        nterms = self.m + 1 + (1 if extra_shift else 0)  # terms (b' + i)^{k-1/2} <= (a-1)^{k-1/2}
        if derivative == 2:
            qq = q * (1 + 1 / (K + 1)) ** 1.5
            x = A1 * r
            if qq >= 1 or K < 2 * x:
                return None
            geo = 2 * _ZETA_3_2 / math.sqrt(2 * math.pi) * (K + 1) ** 1.5 * q ** (K + 1) / (r * r * (1 - qq))
            ex = 2 * nterms * A1 ** 1.5 * math.exp((K - 1) * math.log(x) - math.lgamma(K)) if x > 0 else 0.0
            return arb(geo + ex) * arb("1.000001")
        if not derivative:
            geo = 2 * _ZETA_3_2 / math.sqrt(2 * math.pi) * q ** (K + 1) / math.sqrt(K + 1) / (1 - q)
            x = A1 * r
            if K + 1 < 2 * x:
                return None
            ex = 2 * nterms * A1 ** -0.5 * math.exp((K + 1) * math.log(x) - math.lgamma(K + 2)) if x > 0 else 0.0
        else:
            qq = q * math.sqrt(1 + 1 / (K + 1))
            if qq >= 1:
                return None
            geo = 2 * _ZETA_3_2 / math.sqrt(2 * math.pi) * math.sqrt(K + 1) * q ** (K + 1) / (r * (1 - qq))
            x = A1 * r
            if K < 2 * x:
                return None
            ex = 2 * nterms * A1 ** 0.5 * math.exp(K * math.log(x) - math.lgamma(K + 1)) if x > 0 else 0.0
        return arb(geo + ex) * arb("1.000001")

    # ----------------------------------------------------------------- values
    def values(self, x):
        """(Phi(x, 1/2, a), Phi(x, -1/2, a)) as balls at the current precision, or None outside the fast regions."""
        return self._eval(x, "values")

    def values2(self, x):
        """(Phi(x, 1/2, a), Phi(x, -1/2, a), Phi(x, -3/2, a)), the last for second derivatives; or None."""
        return self._eval(x, "values2")

    def value_m1(self, x):
        """Phi(x, 1/2, a - 1) as a ball at the current precision, or None outside the fast regions."""
        return self._eval(x, "m1")

    def _eval(self, x, mode: str):
        from flint import ctx

        r = float(abs(x).upper())
        if r <= DIRECT_RADIUS:
            e1, e2, e3, e4 = self._direct_err  # the bounds at |x| = 1/2 hold for every |x| <= 1/2
            if mode == "m1":
                return _centred(self.p_half_m1, self.dp[2], x) + e3
            got = _centred(self.p_half, self.dp[0], x) + e1, _centred(self.p_mhalf, self.dp[1], x) + e2
            return got if mode == "values" else (*got, _centred(self.p_m3half, self.dp[3], x) + e4)
        if x.imag.contains(0) and not (x.real > 0 and x.real < 1):
            return None  # the cut [1, inf) or the cut of log x (Phi is analytic there, the principal log is not)
        w = x.log()
        rw = float(abs(w).upper())
        if rw > self.rho:
            return None
        self._ensure_log()
        piece = next(p for p in self._pieces if p[0] >= rw)
        extra = self._loss(rw) - _FREE_LOSS
        if extra <= 0:
            return self._log_values(x, w, mode, piece)
        with workprec(ctx.prec + extra):  # the bits e^{-a w} cancels (module doc), log x included
            return self._log_values(x, x.log(), mode, piece)

    def _log_values(self, x, w, mode, piece):
        """The log expansion (module doc) at w = log x.

        With P the polynomial (truncated) part, Phi(e^w, 1/2, a) = f(w) + e^{-a w} T(w), f(w) = e^{-a w} h(w),
        h(w) = Gamma(1/2) (-w)^{-1/2} + P(w), |T| <= t1; f' = e^{-a w} (h' - a h), h' = Gamma(3/2) (-w)^{-3/2} +
        P'(w) the bracket of Phi(e^w, -1/2, a), whose own derivative Gamma(5/2) (-w)^{-5/2} + P''(w) is the
        bracket of Phi(e^w, -3/2, a).  On a wide ball W of w, f is taken in the centred form
        (:func:`_centred_exp`): the terms of P, up to e^{a |w|} in size, cancel to |e^{a w} Phi|, and Horner on
        W would carry their sum of moduli into the radius.
        """
        _, _, (F, dF, F1), (ddF, dF1, dddF), t1, t2, t3, t4 = piece
        mw = -w
        sq = mw.sqrt()  # principal: the cut of (-w)^{-1/2} is w in [0, inf), that is x in [1, inf)
        g1, g3, g5 = self.gamma_half, self.gamma_3half, self.gamma_5half
        second = mode == "values2"
        # the centred form needs h analytic on the rectangle W: W must miss the cut [0, inf)
        if _is_wide(w) and (w.real < 0 or not w.imag.contains(0)):
            from flint import acb

            wc = acb(w.mid())
            mc = -wc
            sc = mc.sqrt()
            if mode == "m1":
                # Phi(e^w, 1/2, a - 1) = e^{-(a-1) w} (Gamma(1/2) (-w)^{-1/2} + F_{a-1}(w) + T3)
                return _centred_exp(self.am1, w, wc, g1 / sc + F1(wc), g3 / (sq * mw) + dF1(w), t3)
            got = (_centred_exp(self.a, w, wc, g1 / sc + F(wc), g3 / (sq * mw) + dF(w), t1),
                   _centred_exp(self.a, w, wc, g3 / (sc * mc) + dF(wc), g5 / (sq * mw * mw) + ddF(w), t2))
            if not second:
                return got
            # Phi(e^w, -3/2, a): the bracket Gamma(5/2) (-w)^{-5/2} + P''(w), its derivative by Gamma(7/2) and P'''
            return (*got, _centred_exp(self.a, w, wc, g5 / (sc * mc * mc) + ddF(wc),
                                       self.gamma_7half / (sq * mw * mw * mw) + dddF(w), t4))
        ex = (-self.a * w).exp()
        if mode == "m1":
            return ex * x * (g1 / sq + F1(w) + t3)
        got = ex * (g1 / sq + F(w) + t1), ex * (g3 / (sq * mw) + dF(w) + t2)
        return (*got, ex * (g5 / (sq * mw * mw) + ddF(w) + t4)) if second else got


def _centred_exp(c, w, wc, hc, dh, t):
    """e^{-c w} (h(w) + T) on the ball w: e^{-c w_c} h(w_c) + f'(w) (w - w_c) + e^{-c w} t (:func:`_centred`).

    ``hc``: h at the centre w_c; ``dh``: h' on the ball w; |T| <= t.  f = e^{-c w} h, f' = e^{-c w} (h' - c h),
    with h on the ball enclosed by h(w_c) + h'(w) (w - w_c).
    """
    d = w - wc
    ex = (-c * w).exp()
    return (-c * wc).exp() * hc + ex * (dh - c * (hc + dh * d)) * d + ex * t


def _is_wide(x) -> bool:
    """Whether the ball x is wide enough for the centred form to pay (radius above 2^-40 of |x| + 1)."""
    return float(max(x.real.rad(), x.imag.rad())) > 1e-12 * (1 + float(abs(x.mid()).mid()))


def _centred(p, dp, x):
    """p(x) on a ball x (p a polynomial, dp its derivative): the centred form p(x_c) + dp(x) (x - x_c) when x is
    wide, else p(x).

    For every point y of the rectangle x, p(y) - p(x_c) = (y - x_c) times the mean of p' over the segment
    [x_c, y], which lies in the rectangle x; that mean lies in the rectangle dp(x) (convex).  Horner on the
    ball x instead bounds the radius by the sum of the moduli of the terms of p', much larger where they cancel.
    """
    if not _is_wide(x):
        return p(x)
    from flint import acb
    xc = acb(x.mid())
    return p(xc) + dp(x) * (x - xc)


#: precomputations are made at a multiple of this many bits (64 up to 128 bits) and used at any lower precision
_PREC_STEP = 128
_CACHE: dict = {}


def lerch_half_arb(a_minus_1, prec: int) -> LerchHalf:
    """A cached :class:`LerchHalf` for a = 1 + ``a_minus_1`` (a ball) good to ``prec`` bits.

    Keyed by the ball's exact midpoint and radius and by ``prec`` rounded up
    to a multiple of 64 bits up to 128, of 128 bits above (a precomputation
    serves every lower precision).
    """
    step = 64 if prec <= 128 else _PREC_STEP  # the 64-bit path-following and proofs get a precomputation of their own
    p = -(-int(prec) // step) * step
    key = (a_minus_1.mid().man_exp(), a_minus_1.rad().man_exp(), p)
    got = _CACHE.get(key)
    if got is None:
        if len(_CACHE) >= 32:
            _CACHE.clear()
        got = _CACHE[key] = LerchHalf(None, p, a_minus_1=a_minus_1)
    return got
