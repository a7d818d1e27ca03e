def descent_step(x, y, W, lr):
    # The lesson's step, taken by torch.optim.SGD on the sum gradient instead of by hand.
    W = W.detach().clone().requires_grad_(True)
    optimizer = torch.optim.SGD([W], lr=lr)
    optimizer.zero_grad()
    (torch.sum((W * x - y) ** 2) / 2).backward()
    optimizer.step()
    return W.detach()
