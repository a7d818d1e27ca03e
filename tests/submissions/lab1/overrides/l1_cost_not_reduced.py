def l1_cost(prediction, y):
    return torch.abs(prediction - y)
