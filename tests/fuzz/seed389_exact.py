"""Seed 389 of tests/fuzz (FINDINGS_d.md): the reduced program in 80-digit decimals, to get its
exact derivative in v[3], v[4] (float64 cancels thirteen digits).  Run: python seed389_exact.py"""
from decimal import Decimal as D, getcontext
import math
getcontext().prec = 80
def sin(a):
    a = D(a); s = D(0); term = a; n = 1
    while abs(term) > D('1e-70'):
        s += term; term = -term * a * a / ((n + 1) * (n + 2)); n += 2
    return s
def floor(q):
    return D(math.floor(q)) if abs(q) < 1e15 else q.to_integral_value(rounding='ROUND_FLOOR')
def f(x, v):
    y0 = [a * x for a in v]
    y1 = [x] * 5
    for i4 in range(1, 5):
        b = -(D('0.5') + sum(sin(a) * c for a, c in zip(y1, v)) ** 2)
        v = [a * c - b * ((a * c) / b).to_integral_value(rounding='ROUND_FLOOR') for a, c in zip(v, y1)]
    for k5 in range(6):
        k = 0
        while k < 5:
            e7 = y0[k]; k += 1
            if sin(y0[2] - e7) > 0:
                continue
            y0[1] += v[4] - v[3]
    return sum(a * a for a in y0)
v = [D(s) for s in ['1.214', '1.438', '-0.401', '1.268', '1.143']]
x = D('-0.936')
for i in (3, 4):
    h = D('1e-25')
    vp = list(v); vm = list(v); vp[i] += h; vm[i] -= h
    print(i, (f(x, vp) - f(x, vm)) / (2 * h))
