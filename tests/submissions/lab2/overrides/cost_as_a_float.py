def mse_cost(prediction, y):
    return torch.mean((prediction - y) ** 2).item()  # the right number, as a Python float: backward() has nothing to call
