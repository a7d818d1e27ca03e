def mse_cost(prediction, y):
    return (prediction - y) ** 2
