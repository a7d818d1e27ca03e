def hypothesis(x, W, b):
    return x * W + b
