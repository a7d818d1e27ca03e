def hypothesis(x, W, b):
    return x.matmul(W).squeeze() + b
