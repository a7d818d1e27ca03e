def hypothesis(x, W, b):
    return b + x @ W


def train(x, y, lr=1e-5, epochs=20):
    W = torch.zeros(3, 1).requires_grad_()
    b = torch.zeros(1).requires_grad_()
    optimizer = torch.optim.SGD([W, b], lr=lr)
    costs = []
    for epoch in range(epochs + 1):
        prediction = torch.addmm(b, x, W)
        cost = F.mse_loss(prediction, y)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        costs.append(cost)
    return W, b, torch.stack(costs).detach()


class MultivariateLinearRegressionModel(nn.Module):
    def __init__(self, input_dim=3, output_dim=1):
        super().__init__()
        self.linear = nn.Linear(input_dim, output_dim)

    def forward(self, x):
        prediction = self.linear(x)
        return prediction
