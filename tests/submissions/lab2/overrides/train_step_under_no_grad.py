def train_step(x, y, W, b, optimizer):
    with torch.no_grad():
        cost = mse_cost(hypothesis(x, W, b), y)
    optimizer.zero_grad()
    cost.backward()
    optimizer.step()
    return cost.item()
