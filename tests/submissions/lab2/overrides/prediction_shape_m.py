def hypothesis(x, W, b):
    # x (m, 1) @ W (1,) gives (m,): the prediction loses its second dimension
    return x @ W + b
