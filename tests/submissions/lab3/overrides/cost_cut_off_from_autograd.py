def cost(x, y, W):
    return torch.tensor(torch.mean((hypothesis(x, W) - y) ** 2).item())
