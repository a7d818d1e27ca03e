def l1_cost(prediction, y):
    return torch.sum(torch.abs(prediction - y))
def train_l1(x, y, lr=0.01, epochs=500, seed=0):
    torch.manual_seed(seed)
    model = nn.Linear(1, 1)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    costs = []
    for epoch in range(epochs):
        cost = l1_cost(model(x), y)
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
    return model.weight.item(), model.bias.item(), costs
