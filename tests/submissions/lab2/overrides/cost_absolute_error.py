def mse_cost(prediction, y):
    return torch.mean(torch.abs(prediction - y))
