def gradient(x, y, W, b):
    xs, ys, w, c = x.numpy(), y.numpy(), W.numpy(), b.numpy()  # fails when W requires grad
    error = xs * w + c - ys
    return torch.tensor([2 * (error * xs).mean()]), torch.tensor([2 * error.mean()])
