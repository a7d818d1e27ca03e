def hypothesis(x, W, b):
    return x.matmul(W).squeeze() + b
def train(x, y, lr=1e-5, epochs=20):
    W = torch.zeros((3, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr)
    costs = []
    for epoch in range(epochs + 1):
        cost = torch.sum((hypothesis(x, W, b) - y) ** 2)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
    return W, b, costs
