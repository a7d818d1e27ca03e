def train(x, y, lr=0.01, epochs=1000):
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr)
    costs = [train_step(x_train, y_train, W, b, optimizer) for epoch in range(epochs + 1)]  # not x, y
    return W, b, costs
# %% after hypothesis
x_train = torch.FloatTensor([[1], [2], [3]])
y_train = torch.FloatTensor([[1], [2], [3]])
