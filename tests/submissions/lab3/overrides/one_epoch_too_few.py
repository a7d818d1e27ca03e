def train(x, y, lr=0.1, epochs=10):
    W = torch.zeros(1)
    history = []
    for epoch in range(epochs):
        history.append((W.item(), cost(x, y, W).item()))
        W = descent_step(x, y, W, lr)
    return W, history
