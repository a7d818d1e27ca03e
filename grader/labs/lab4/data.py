"""Lab 4's inputs, as plain Python lists: the lesson's quiz scores and the hidden data.

Kept free of torch so the grader can send probes to the student's process before it
has imported torch itself. The lesson's numbers live in docs/values.md (lab 4).
"""

from __future__ import annotations

# The course's quiz scores (three quizzes -> final score). Lesson 000 prints the third row as
# [89, 91, 80]; the course's notebook, which printed every number we check, has [89, 91, 90].
LESSON_X = [[73.0, 80.0, 75.0], [93.0, 88.0, 93.0], [89.0, 91.0, 90.0], [96.0, 98.0, 100.0], [73.0, 66.0, 70.0]]
LESSON_Y = [[152.0], [185.0], [180.0], [196.0], [142.0]]
LESSON_LR, LESSON_EPOCHS, LESSON_SEED = 1e-5, 20, 1
# W and b after the lesson's first SGD step from zeros (lr 1e-5), as float32:
# exactly lr * 2/m * x^T y and lr * 2/m * sum(y), up to float32 rounding.
W_STEP = [[0.29401201009750366], [0.2935999929904938], [0.2973800003528595]]
B_STEP = [0.0034199999645352364]

# Hidden data: no lesson uses these.
A_X = [[60.0, 72.0, 68.0], [85.0, 79.0, 90.0], [70.0, 88.0, 75.0], [95.0, 91.0, 84.0]]
A_W, A_B = [[0.4], [0.35], [0.25]], [1.5]
B_X = [[1.0, -2.0, 0.5], [3.0, 0.25, -1.5], [-0.75, 1.25, 2.0]]  # m = 3: x * W would be (3, 3)
B_W, B_B = [[-0.8], [1.5], [0.3]], [-2.0]
# Other quiz scores, trained with the defaults (lr 1e-5, 20 epochs).
T_X = [[65.0, 70.0, 62.0], [88.0, 92.0, 95.0], [78.0, 74.0, 81.0], [92.0, 85.0, 89.0], [55.0, 61.0, 58.0],
       [81.0, 90.0, 86.0]]
T_Y = [[133.0], [190.0], [160.0], [178.0], [118.0], [175.0]]
# Small features, a larger learning rate and another epoch count.
U_X = [[0.5, -1.0, 1.5], [1.0, 0.5, -0.5], [2.0, 1.5, 0.0], [-1.0, 2.0, 1.0], [1.5, -0.5, 2.5]]
U_Y = [[1.9], [1.2], [4.1], [2.6], [3.4]]
U_LR, U_EPOCHS = 0.05, 30
FEW_LR, FEW_EPOCHS = 2e-5, 2  # train(T_X, T_Y, lr=FEW_LR, epochs=FEW_EPOCHS): three steps
MODEL_SEED, MODEL_LR, MODEL_STEPS = 7, 0.05, 5  # the model on U_X, U_Y
