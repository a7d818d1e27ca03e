def quadratic_grad(w):
    return 4.0 * float(w)  # dz/dw of 2 * w**2 + 5, worked out by hand


def accumulated_grads(w, calls):
    return [2.0 * (i + 1) for i in range(calls)]  # what backward() would accumulate, by hand
