"""Quick start: differentiate an ordinary Python loop and read the generated gradient."""
import diffc


def sum_loop(x):
    total = 0.0
    for i in range(5):
        total += x * i
    return total


grad_sum_loop = diffc.grad(sum_loop)
print("sum_loop(1.5)      =", sum_loop(1.5))
print("d sum_loop/dx(1.5) =", grad_sum_loop(1.5), "(exact: 0+1+2+3+4 = 10)")
print()
print("The generated gradient (exactly the code that runs):")
print(diffc.source(sum_loop))
