def cost(x, y, W):
    return torch.mean(torch.abs(hypothesis(x, W) - y))
