def l1_cost(prediction, y):
    return torch.abs(torch.mean(prediction - y))
