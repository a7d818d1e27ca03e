def train_step(x, y, W, b, optimizer):
    optimizer.zero_grad()
    cost = mse_cost(hypothesis(x, W, b), y)
    cost.backward()
    W -= 0.01 * W.grad
    b -= 0.01 * b.grad
    return cost.item()
