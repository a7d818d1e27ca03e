def mse_cost(prediction, y):
    return torch.sum((prediction - y) ** 2)


def train_step(x, y, W, b, optimizer):
    cost = mse_cost(hypothesis(x, W, b), y)
    cost.backward()
    optimizer.step()
    return cost.item()
