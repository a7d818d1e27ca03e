def train_step(x, y, W, b, optimizer):
    optimizer.zero_grad()
    cost = mse_cost(hypothesis(x, W, b).squeeze(), y)  # an (m,) prediction against the (m, 1) target
    cost.backward()
    optimizer.step()
    return cost.item()
