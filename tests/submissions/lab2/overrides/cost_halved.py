def mse_cost(prediction, y):
    # Half the mean squared error (a convention some books use): not one of the simulated mistakes.
    return torch.mean((prediction - y) ** 2) / 2
