"""Lab 3's inputs, as plain Python lists: the lesson's data and the hidden data.

Kept free of torch so the grader can send probes to the student's process before it
has imported torch itself. The lesson's numbers live in docs/values.md (lab 3).
"""

from __future__ import annotations

# Lesson 004, "Bias가 없는 model을 이용하여, GD를 더 자세히 이해해보자": x = y = [[1], [2], [3]],
# H(x) = xW, W = 0 at the start, lr 0.1, nb_epochs 10. The cost curve runs over linspace(-5, 7, 1000).
LESSON_X = [[1.0], [2.0], [3.0]]
LESSON_Y = [[1.0], [2.0], [3.0]]
LESSON_LR, LESSON_EPOCHS = 0.1, 10
# float32(1.4): W after the lesson's first step, where its second step starts.
W_AFTER_ONE_STEP = [1.399999976158142]
CURVE_START, CURVE_END, CURVE_POINTS = -5.0, 7.0, 1000

# Hidden data: no lesson uses these. The training data keep lr * sum(x ** 2) below 1,
# so the lesson's sum gradient converges without overshooting wildly.
A_X = [[0.5], [1.5], [2.0], [3.0], [-1.0]]
A_Y = [[1.2], [2.9], [4.1], [6.2], [-1.8]]
A_W, A_LR = [0.7], 0.03
B_X = [[-2.0], [-1.0], [0.25], [0.5], [1.0], [1.75], [2.5]]
B_Y = [[2.9], [1.2], [-0.2], [-0.8], [-1.1], [-2.4], [-3.3]]
B_W, B_LR = [-1.3], 0.04
T_X = [[0.5], [1.0], [1.5], [2.0]]
T_Y = [[1.1], [1.9], [3.2], [3.9]]
U_X = [[0.2], [0.9], [1.3], [2.1], [2.6], [3.4]]
U_Y = [[0.5], [1.4], [2.2], [3.1], [4.0], [4.9]]
U_LR, U_EPOCHS = 0.02, 25
CURVE_A = [-1.0 + 0.1 * i for i in range(41)]  # -1.0 .. 3.0
CURVE_B = [2.0, -1.0, 0.5, 1.25, 3.0, -0.25, 0.95]  # unsorted, not a linspace


def linspace(start: float, end: float, points: int) -> list[float]:
    """Like torch.linspace, in plain Python; the grader rebuilds the same float32 values from it."""
    step = (end - start) / (points - 1)
    return [start + step * i for i in range(points)]
