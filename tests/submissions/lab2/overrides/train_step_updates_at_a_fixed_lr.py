def train_step(x, y, W, b, optimizer):
    optimizer.zero_grad()
    cost = mse_cost(hypothesis(x, W, b), y)
    cost.backward()
    W.data -= 0.01 * W.grad  # the lesson's lr, not the optimizer's
    b.data -= 0.01 * b.grad
    return cost.item()
