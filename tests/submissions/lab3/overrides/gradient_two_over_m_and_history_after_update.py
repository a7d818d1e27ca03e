def gradient(x, y, W):
    # Lab 2's exact derivative of the mean cost, not this lesson's plain sum.
    return 2 * torch.mean((W * x - y) * x).reshape(W.shape)


def train(x, y, lr=0.1, epochs=10):
    W = torch.zeros(1)
    history = []
    for epoch in range(epochs + 1):
        W = descent_step(x, y, W, lr)
        history.append((W.item(), cost(x, y, W).item()))
    return W, history
