def descent_step(x, y, W, lr):
    return W + lr * gradient(x, y, W)
