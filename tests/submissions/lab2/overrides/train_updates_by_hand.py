def train(x, y, lr=0.01, epochs=1000):
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    costs = []
    for epoch in range(epochs + 1):
        W.grad = None
        b.grad = None
        cost = mse_cost(hypothesis(x, W, b), y)
        cost.backward()
        with torch.no_grad():  # SGD's update, written by hand: the same numbers, no optim.SGD
            W -= lr * W.grad
            b -= lr * b.grad
        costs.append(cost.item())
    return W, b, costs
