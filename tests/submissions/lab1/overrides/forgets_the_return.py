def quadratic_grad(w):
    w = torch.tensor(float(w), requires_grad=True)
    z = 2 * w ** 2 + 5
    z.backward()
    w.grad.item()  # computed, never returned
