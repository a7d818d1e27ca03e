"""Lab 2's inputs, as plain Python lists: the lessons' data and the hidden data.

Kept free of torch so the grader can send probes to the student's process before it
has imported torch itself. The lessons' numbers live in docs/values.md.
"""

from __future__ import annotations



# Lessons 002 and 004: x = y = [[1], [2], [3]].
LESSON_X = [[1.0], [2.0], [3.0]]
LESSON_Y = [[1.0], [2.0], [3.0]]
# Lesson 003: study hours against points, and the float32 values of
# `torch.manual_seed(0); torch.rand(1, 1); torch.rand(1)` (printed as 0.4963 and 0.7682).
STUDY_Y = [[20.0], [40.0], [60.0]]
W_003 = [0.49625658988952637]
B_003 = [0.7682217955589294]
# Lesson 002 after the first SGD step: W 0.0933, b 0.0400 (exactly 0.01 * 28/3 and 0.01 * 4).
W_002_STEP = [0.09333333373069763]
B_002_STEP = [0.03999999910593033]

# Lesson 000 (seed 000), its first dataset: six points trained like lesson 002 (SGD, lr 0.01, from
# W = b = 0, range(epochs + 1)). The lesson runs 20000 epochs and shows no output; the checks use the
# log lines its code prints at epochs 0, 100 and 200.
L000_X = [[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]]
L000_Y = [[2.0], [4.0], [6.0], [7.0], [11.0], [14.0]]
L000_LR, L000_EPOCHS = 0.01, 200
# Lesson 003's later numbers: its training cell ran three times, so 1 + 3 * 100 = 301 SGD steps of
# lr 0.001 from W_003, B_003. The probe makes 302 train_step calls: the 302nd returns the cost at the
# parameters after 301 steps (the lesson's loss3).
STUDY_LR, STUDY_STEPS = 0.001, 302

# Hidden data: no lesson uses these.
A_X = [[-1.5], [0.25], [2.0], [3.5], [4.75]]
A_Y = [[-2.1], [1.3], [4.6], [7.9], [10.2]]
A_W, A_B = [1.25], [-0.75]
B_X = [[0.5], [1.0], [1.5], [2.0], [2.5], [3.0], [3.5]]
B_Y = [[3.1], [2.6], [2.4], [1.6], [1.2], [0.9], [0.1]]
B_W, B_B = [-0.8], [2.5]
T_X = [[0.5], [1.5], [2.5], [3.5]]
T_Y = [[2.2], [4.1], [6.3], [7.8]]
T_LR, T_EPOCHS = 0.05, 40
STEP_START_W, STEP_START_B, STEP_LR, STEP_COUNT = [0.3], [-0.2], 0.02, 4
MODEL_SEED, MODEL_LR, MODEL_STEPS = 7, 0.01, 3
S_X = [[0.5], [1.5], [2.0], [3.5], [4.0], [5.5]]  # train, next to lesson 000's six points
S_Y = [[1.1], [2.9], [4.2], [6.8], [8.1], [10.7]]
S_LR, S_EPOCHS = 0.02, 60
LONG_START_W, LONG_START_B, LONG_LR, LONG_STEPS = [1.5], [-0.5], 0.005, 60  # train_step, next to lesson 003's run


def line(x: list[list[float]], w: list[float], b: list[float]) -> list[list[float]]:
    """x * w + b, in plain Python (to build prediction inputs for mse_cost)."""
    return [[row[0] * w[0] + b[0]] for row in x]
