"""Helper functions imported by the test corpus (calls across modules)."""
import math


def imported_square_plus(x, c=1.0):
    return x * x + c


def imported_poly(a, b):
    return a * a * b - math.sin(b)
