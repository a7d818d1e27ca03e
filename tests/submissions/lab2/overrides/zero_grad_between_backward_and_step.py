def train_step(x, y, W, b, optimizer):
    cost = mse_cost(hypothesis(x, W, b), y)
    cost.backward()
    optimizer.zero_grad()
    optimizer.step()
    return cost.item()
