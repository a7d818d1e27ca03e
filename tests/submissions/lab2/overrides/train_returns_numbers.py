def train(x, y, lr=0.01, epochs=1000):
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr)
    costs = [train_step(x, y, W, b, optimizer) for epoch in range(epochs + 1)]
    return W.item(), b.item(), costs
