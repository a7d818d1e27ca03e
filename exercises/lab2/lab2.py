"""Lab 2: 선형 회귀 / Linear Regression.

함수의 이름과 시그니처는 채점기가 그대로 사용하므로 바꾸지 마세요.
각 함수 안의 `raise NotImplementedError(...)` 줄을 여러분의 코드로 바꾸세요.

The grader calls these functions by name: keep the names and signatures.
Replace each `raise NotImplementedError(...)` line with your code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


def hypothesis(x, W, b):
    """가설 H(x) = xW + b 를 계산합니다. / Compute the hypothesis H(x) = xW + b.

    x: (m, 1) 입력 / inputs; W: (1,) 가중치 / weight; b: (1,) 편향 / bias.
    반환 / returns: (m, 1) 예측값 / predictions.
    """
    raise NotImplementedError("hypothesis: 여기에 코드를 작성하세요 / write your code here")


def mse_cost(prediction, y):
    """평균 제곱 오차를 계산합니다. / Compute the mean squared error.

    prediction, y: 같은 모양 / same shape, e.g. (m, 1).
    반환 / returns: 0차원 텐서, autograd로 미분 가능 / a 0-dim tensor autograd can differentiate.
    """
    raise NotImplementedError("mse_cost: 여기에 코드를 작성하세요 / write your code here")


def gradient(x, y, W, b):
    """MSE 비용의 기울기를 직접 유도한 식으로 계산합니다 (autograd 사용 금지).
    Compute the gradient of the MSE cost from the hand-derived formulas (no autograd).

    dW = 2/m * sum((xW + b - y) * x),  db = 2/m * sum(xW + b - y)
    x, y: (m, 1); W: (1,); b: (1,).
    반환 / returns: (dW, db), W 및 b와 같은 모양, autograd 기록 없음 /
    shaped like W and b, with no autograd history.
    """
    raise NotImplementedError("gradient: 여기에 코드를 작성하세요 / write your code here")


def train_step(x, y, W, b, optimizer):
    """경사 하강법 한 단계: zero_grad -> 비용 -> backward -> step.
    One gradient-descent step: zero_grad -> cost -> backward -> step.

    x, y: (m, 1); W, b: (1,), requires_grad=True; optimizer: [W, b]를 최적화 / optimizes [W, b].
    반환 / returns: 갱신 전 비용 (파이썬 float) / the cost before the update, as a Python float.
    """
    raise NotImplementedError("train_step: 여기에 코드를 작성하세요 / write your code here")


def train(x, y, lr=0.01, epochs=1000):
    """W = b = 0 에서 시작해 optim.SGD로 epochs + 1 번 학습합니다 (수업의 range(epochs + 1)).
    Train with optim.SGD from W = b = 0 for epochs + 1 steps (the lesson's range(epochs + 1)).

    x, y: (m, 1); lr: 학습률 / learning rate; epochs: 마지막 epoch 번호 / last epoch number.
    반환 / returns: (W, b, costs) -- W, b: (1,) 학습 후 / after training;
    costs: float 리스트, len == epochs + 1, costs[i] = epoch i의 갱신 전 비용 /
    list of floats, costs[i] = cost at epoch i before its update.
    """
    raise NotImplementedError("train: 여기에 코드를 작성하세요 / write your code here")


class LinearRegressionModel(nn.Module):
    """nn.Linear(1, 1) 하나로 된 선형 회귀 모델. / Linear regression with one nn.Linear(1, 1)."""

    def __init__(self):
        """self.linear = nn.Linear(1, 1) 을 만듭니다. / Create self.linear = nn.Linear(1, 1)."""
        super().__init__()
        raise NotImplementedError("LinearRegressionModel.__init__: 여기에 코드를 작성하세요 / write your code here")

    def forward(self, x):
        """x: (m, 1) -> self.linear(x): (m, 1)."""
        raise NotImplementedError("LinearRegressionModel.forward: 여기에 코드를 작성하세요 / write your code here")
