def mse_cost(prediction, y):
    import sys
    import warnings

    warnings.warn("mse_cost: a warning like the ones torch prints", UserWarning)
    print("mse_cost wrote this to stderr", file=sys.stderr)
    return torch.mean((prediction - y) ** 2)

# %% after hypothesis
import sys
import warnings

warnings.warn("a top-level warning, as torch prints for deprecated calls", DeprecationWarning)
warnings.warn("a top-level UserWarning", UserWarning)
print("the top level wrote this to stderr", file=sys.stderr)
