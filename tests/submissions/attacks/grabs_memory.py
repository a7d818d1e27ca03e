# %% attack: train() allocates 3 GiB (the test grants 1 GiB); the functions graded before it keep their points.
_original_train = train


def train(*args, **kwargs):
    import torch
    hog = torch.ones(3 * 2**30 // 4)  # 3 GiB of float32, every page touched
    return _original_train(*args, **kwargs) if hog.sum() < 0 else _original_train(*args, **kwargs)
