def descent_step(x, y, W, lr):
    # The lesson's `W -= lr * gradient`: fine on a plain tensor, refused by autograd on one that requires grad.
    W -= lr * gradient(x, y, W)
    return W
