def mse_cost(prediction, y):
    return torch.mean((prediction - y) ** 2).detach().numpy()  # the right number as a numpy value: backward() has nothing to call
