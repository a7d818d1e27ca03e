def descent_step(x, y, W, lr):
    # Silences autograd's complaint, but still changes the caller's W and hands the same tensor back.
    with torch.no_grad():
        W -= lr * gradient(x, y, W)
    return W
