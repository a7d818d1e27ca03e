def train_step(x, y, W, b, optimizer):
    optimizer.zero_grad()
    cost = mse_cost(hypothesis(x, W, b), y)
    cost.backward()
    optimizer.step()
    return cost  # the tensor, not cost.item()
