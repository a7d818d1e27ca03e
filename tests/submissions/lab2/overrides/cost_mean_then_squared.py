def mse_cost(prediction, y):
    return torch.mean(prediction - y) ** 2
