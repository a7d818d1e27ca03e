def l1_cost(prediction, y):
    return torch.sum(torch.abs(prediction - y))
