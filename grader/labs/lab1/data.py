"""Lab 1's inputs, as plain Python lists and numbers: the lessons' data and the hidden data.

Kept free of torch so the grader can send probes to the student's process before it
has imported torch itself. The lessons' numbers live in docs/values.md (lab 1).

Lesson 001 draws its data with torch's unseeded random generator, so it prints nothing
reproducible. Here the same recipe (x uniform in [-10, 10], noise with std 1,
y = 2 * (x + noise) + 3) is drawn with Python's `random` and a fixed seed, so the
grader, the reference solution and the student all train on the same 1000 points.
"""

from __future__ import annotations

import random

# Lesson 000, "자동미분(Autograd)": w = torch.tensor(2.0, requires_grad=True); z = 2 * w**2 + 5.
LESSON_W = 2.0
# Lesson 000, "zero_grad() 사용 이유": nb_epochs = 20, `for epoch in range(nb_epochs + 1)`, so 21
# backward calls of z = 2 * w from w = 2.0, printing w.grad each time.
LESSON_CALLS = 21


def noisy_line(seed: int, n: int, low: float, high: float, slope: float, intercept: float,
               noise_std: float) -> tuple[list[list[float]], list[list[float]], list[list[float]]]:
    """Lesson 001's recipe: x uniform in [low, high], y = slope * (x + noise) + intercept.

    Returns (x, y, line) as (n, 1) nested lists, where `line` is the noise-free
    slope * x + intercept. All x are drawn first, then all noise, as the lesson does.
    """
    rng = random.Random(seed)
    xs = [rng.uniform(low, high) for _ in range(n)]
    noise = [rng.gauss(0.0, noise_std) for _ in range(n)]
    x = [[v] for v in xs]
    y = [[slope * (v + e) + intercept] for v, e in zip(xs, noise)]
    line = [[slope * v + intercept] for v in xs]
    return x, y, line


# Lesson 001: num_data = 1000, x uniform in [-10, 10], noise std 1, y = 2 * (x + noise) + 3;
# nn.Linear(1, 1), nn.L1Loss, optim.SGD with lr 0.01, num_epoch = 500, `for i in range(num_epoch)`.
L1_SEED, L1_N = 1, 1000
L1_X, L1_Y, L1_LINE = noisy_line(L1_SEED, L1_N, -10.0, 10.0, 2.0, 3.0, 1.0)
L1_LR, L1_EPOCHS, L1_MODEL_SEED = 0.01, 500, 0

# Hidden data: no lesson uses these.
Q_HIDDEN_A = -1.5  # quadratic_grad, with the lesson's value
Q_HIDDEN_B = (3.25, -0.4)  # quadratic_grad, other w
ACC_HIDDEN = (-3.0, 5)  # accumulated_grads (w, calls), with the lesson's value
ACC_OTHER = ((0.5, 1), (7.0, 8))  # accumulated_grads, other counts
# l1_cost on 5 rows, and on a (2, 3) block (every element enters the mean).
C_PRED_A = [[0.5], [-1.0], [2.5], [4.0], [-0.25]]
C_Y_A = [[1.0], [-3.0], [2.0], [7.5], [0.5]]
C_PRED_B = [[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]]
C_Y_B = [[0.0, 1.0, 0.5], [-2.0, 1.25, 4.0]]
# l1_cost under autograd: 7 rows with errors of both signs.
C_PRED_G = [[0.3], [1.7], [-2.2], [0.9], [4.4], [-0.6], [2.8]]
C_Y_G = [[1.0], [1.2], [-2.0], [-0.5], [5.0], [0.1], [2.0]]
# train_l1 with the default lr, epochs and seed on other data (a falling line, 300 points).
TD_X, TD_Y, _ = noisy_line(2, 300, -6.0, 6.0, -1.5, 0.5, 0.5)
# train_l1 with another lr, epoch count and seed on yet other data.
TH_X, TH_Y, _ = noisy_line(3, 200, -3.0, 5.0, 0.75, -2.0, 0.3)
TH_LR, TH_EPOCHS, TH_SEED = 0.05, 80, 3
