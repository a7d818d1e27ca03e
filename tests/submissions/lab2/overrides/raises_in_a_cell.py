# %% after mse_cost
values = [1, 2, 3]
print(values[10])
