def mse_cost(prediction, y):
    return torch.sum((prediction - y) ** 2)
