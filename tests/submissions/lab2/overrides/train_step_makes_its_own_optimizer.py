def train_step(x, y, W, b, optimizer):
    optimizer = optim.SGD([W, b], lr=0.001)  # its own, at another lr than train's
    optimizer.zero_grad()
    cost = mse_cost(hypothesis(x, W, b), y)
    cost.backward()
    optimizer.step()
    return cost.item()
