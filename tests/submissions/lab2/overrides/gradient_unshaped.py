def gradient(x, y, W, b):
    with torch.no_grad():
        error = W * x + b - y
        return 2 * torch.mean(error * x), 2 * torch.mean(error)
