def hypothesis(x, W):
    return x.squeeze(1) * W  # (m,): the (m, 1) shape of x is lost
