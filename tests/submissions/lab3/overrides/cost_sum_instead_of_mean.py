def cost(x, y, W):
    return torch.sum((hypothesis(x, W) - y) ** 2)
