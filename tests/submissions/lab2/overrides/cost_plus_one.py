def mse_cost(prediction, y):
    # Wrong at W = b = 0 too, and no classic mistake: nothing to carry forward, and no start to blame.
    return torch.mean((prediction - y) ** 2) + 1
