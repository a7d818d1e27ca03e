def gradient(x, y, W, b):
    with torch.no_grad():
        return torch.sum((W * x + b - y) * x), torch.sum(W * x + b - y)
