#!/usr/bin/env python3
"""Fits the polynomial of package simd's normal-tail kernel (normtail in
internal/simd/asm/main.go) and prints it as the generator's defF lines.

For x >= 0 the kernel computes Phi(-x), the standard normal's lower tail,
as exp(-x^2/2) * h(t) / (1 + K x), where t = (x - C) / (x + C) maps
[0, inf) onto [-1, 1) and h(t) = (1 + K x) Phi(-x) exp(x^2/2) is smooth
and bounded (0.5 at x = 0, about 0.64 at its largest, K / sqrt(2 pi) as
x -> inf). h is fitted by a degree-11 polynomial, least squares in
relative error at 3000 Chebyshev nodes (close to minimax), with values
from mpmath at 40 digits. The script prints the relative error of the
coefficients as the kernel has them, rounded to float32: about 2e-8, well
under float32's 6e-8, so the kernel's error is mostly its float32
arithmetic's (TestTranscendentalAccuracy measures it).

Run: /usr/bin/python3 scripts/fits/normaltail.py   (numpy, mpmath)
"""
import math

import mpmath as mp
import numpy as np

mp.mp.dps = 40
C = float(np.float32(2 * math.sqrt(2)))  # the float32 constants the kernel uses
K = float(np.float32(math.sqrt(2)))
DEG, NODES = 11, 3000


def h(t):
    if t >= 1:
        return K / mp.sqrt(2 * mp.pi)
    x = mp.mpf(C) * (1 + t) / (1 - t)
    return (1 + K * x) * mp.erfc(x / mp.sqrt(2)) / 2 * mp.exp(x * x / 2)


def main():
    j = np.arange(NODES)
    ts = np.cos(np.pi * (j + 0.5) / NODES)
    hs = np.array([float(h(mp.mpf(float(t)))) for t in ts])
    v = np.polynomial.chebyshev.chebvander(ts, DEG)
    coef, *_ = np.linalg.lstsq(v / hs[:, None], np.ones_like(hs), rcond=None)
    p = np.polynomial.chebyshev.cheb2poly(coef).astype(np.float32).astype(np.float64)
    worst = max(abs(np.polynomial.polynomial.polyval(t, p) / float(h(mp.mpf(float(t)))) - 1)
                for t in np.linspace(-1, 1, 4001))
    print("\t// the fit's relative error with float32 coefficients: %.2g" % worst)
    print('\tdefF("ntC", %.9g)' % C)
    print('\tdefF("ntK", %.9g)' % K)
    for i, c in enumerate(p):
        print('\tdefF("nt%d", %.9g)' % (i, c))


if __name__ == "__main__":
    main()
