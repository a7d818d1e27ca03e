def cost(x, y, W):
    return torch.mean(hypothesis(x, W) - y)
