def train(x, y, lr=0.01, epochs=1000):
    # Finite answers whose pictures are not: the fitted line W * x overflows to infinity, and the
    # costs sit at the top of a log scale (10 ** 309 is past the largest float).
    return torch.tensor([1.7e308], dtype=torch.float64), torch.zeros(1), [1.7e308] * (epochs + 1)
