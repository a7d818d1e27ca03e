"""The logistic lab's inputs, as plain Python lists: the lesson's data and the hidden data.

Kept free of torch so the grader can send probes to the student's process before it has
imported torch itself.
"""

from __future__ import annotations

import math

# The lesson: six points with two features each, the first three of class 0, the last three of class 1.
LESSON_X = [[1.0, 2.0], [2.0, 3.0], [3.0, 1.0], [4.0, 3.0], [5.0, 3.0], [6.0, 2.0]]
LESSON_Y = [[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]]
# The lesson starts from W = b = 0, where every prediction is 0.5 (cost 0.6931), and trains with SGD, lr 1.
ZERO_W, ZERO_B = [[0.0], [0.0]], [0.0]
HALVES = [[0.5]] * 6
LESSON_LR, LESSON_STEPS = 1.0, 2
# Added to the lesson: a W and b where the six predictions differ (the solution notebook prints them).
SOME_W, SOME_B = [[0.5], [-0.25]], [-0.5]

# Hidden data: no lesson uses these.
A_X = [[0.5, 1.5], [1.0, 0.5], [2.5, 2.0], [3.0, 3.5], [4.5, 1.0]]
A_Y = [[0.0], [0.0], [1.0], [0.0], [1.0]]
A_W, A_B = [[0.8], [-0.3]], [-1.2]
B_X = [[-1.0, 0.5], [0.0, 2.0], [1.5, -0.5], [2.0, 1.0], [3.5, 2.5], [-2.0, -1.5], [0.5, 3.0]]
B_Y = [[0.0], [1.0], [0.0], [1.0], [1.0], [0.0], [1.0]]
B_W, B_B = [[-0.4], [0.6]], [0.25]
STEP_W, STEP_B, STEP_LR, STEP_COUNT = [[0.2], [-0.1]], [0.3], 0.5, 5


def sigmoid_line(x: list[list[float]], w: list[list[float]], b: list[float]) -> list[list[float]]:
    """sigmoid(x @ w + b), in plain Python (to build prediction inputs for bce_cost)."""
    return [[1.0 / (1.0 + math.exp(-(sum(xi * wi[0] for xi, wi in zip(row, w)) + b[0])))] for row in x]
