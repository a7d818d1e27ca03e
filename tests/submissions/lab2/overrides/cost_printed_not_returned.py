def mse_cost(prediction, y):
    cost = torch.mean((prediction - y) ** 2)
    print(cost)
