def mse_cost(prediction, y):
    # Half the mean squared error (a convention some books use, for the 1/2 it puts in the derivative).
    return torch.mean((prediction - y) ** 2) / 2
