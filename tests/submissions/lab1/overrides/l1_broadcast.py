def l1_cost(prediction, y):
    return torch.mean(torch.abs(prediction.view(-1) - y))  # (m,) against (m, 1): an (m, m) mean
