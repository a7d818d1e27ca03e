def gradient(x, y, W):
    # The lesson's numbers, from autograd on half the summed squared error instead of the formula.
    W = W.detach().clone().requires_grad_(True)
    (torch.sum((W * x - y) ** 2) / 2).backward()
    return W.grad.detach()
