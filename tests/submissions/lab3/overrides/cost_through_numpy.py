def cost(x, y, W):
    err = (hypothesis(x, W) - y).detach().numpy()
    return (err ** 2).mean()  # a numpy float32: the right number, off autograd
