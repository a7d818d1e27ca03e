"""로지스틱 회귀 / Logistic Regression.

Known mistake: train_step forgets optimizer.zero_grad(), so gradients pile up.

함수의 이름과 시그니처는 채점기가 그대로 사용하므로 바꾸지 마세요.
각 함수 안의 `raise NotImplementedError(...)` 줄을 여러분의 코드로 바꾸세요.

The grader calls these functions by name: keep the names and signatures.
Replace each `raise NotImplementedError(...)` line with your code.
"""

import torch
import torch.nn.functional as F
import torch.optim as optim


def hypothesis(x, W, b):
    """가설 H(x) = sigmoid(xW + b) 를 계산합니다. / Compute the hypothesis H(x) = sigmoid(xW + b).

    x: (m, 2) 입력 / inputs; W: (2, 1) 가중치 / weights; b: (1,) 편향 / bias.
    반환 / returns: (m, 1) 예측 확률 P(y = 1 | x) / predicted probabilities P(y = 1 | x).
    """
    return torch.sigmoid(x @ W + b)


def bce_cost(prediction, y):
    """이진 교차 엔트로피의 평균을 계산합니다. / Compute the mean binary cross-entropy.

    cost = -mean(y * log(H(x)) + (1 - y) * log(1 - H(x)))
    prediction: (m, 1) 확률 / probabilities; y: (m, 1) 정답 0 또는 1 / labels, 0 or 1.
    반환 / returns: 0차원 텐서, autograd로 미분 가능 / a 0-dim tensor autograd can differentiate.
    """
    return -torch.mean(y * torch.log(prediction) + (1 - y) * torch.log(1 - prediction))


def train_step(x, y, W, b, optimizer):
    """경사 하강법 한 단계: zero_grad -> 비용 -> backward -> step.
    One gradient-descent step: zero_grad -> cost -> backward -> step.

    x: (m, 2); y: (m, 1); W: (2, 1), b: (1,), requires_grad=True; optimizer: [W, b]를 최적화 / optimizes [W, b].
    반환 / returns: 갱신 전 비용 (파이썬 float) / the cost before the update, as a Python float.
    """
    cost = bce_cost(hypothesis(x, W, b), y)
    cost.backward()
    optimizer.step()
    return cost.item()
