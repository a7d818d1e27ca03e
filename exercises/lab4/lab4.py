"""Lab 4: 다중 선형 회귀 / Multivariable Linear Regression.

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
    """행렬 곱으로 가설 H(X) = XW + b 를 계산합니다. / Compute H(X) = XW + b with a matrix product.

    x: (m, 3) 입력 / inputs; W: (3, 1) 가중치 / weights; b: (1,) 편향 / bias.
    반환 / returns: (m, 1) 예측값 / predictions.
    """
    raise NotImplementedError("hypothesis: 여기에 코드를 작성하세요 / write your code here")


def train(x, y, lr=1e-5, epochs=20):
    """W = 0 (3, 1), b = 0 (1,) 에서 시작해 optim.SGD로 epochs + 1 번 학습합니다 (수업의 range(nb_epochs + 1)).
    Train with optim.SGD from W = 0 (3, 1), b = 0 (1,) for epochs + 1 steps (the lesson's range(nb_epochs + 1)).

    x: (m, 3); y: (m, 1); lr: 학습률 / learning rate; epochs: 마지막 epoch 번호 / last epoch number.
    반환 / returns: (W, b, costs) -- W: (3, 1), b: (1,) 학습 후 / after training;
    costs: float 리스트, len == epochs + 1, costs[i] = epoch i의 갱신 전 비용 /
    list of floats, costs[i] = cost at epoch i before its update.
    """
    raise NotImplementedError("train: 여기에 코드를 작성하세요 / write your code here")


class MultivariateLinearRegressionModel(nn.Module):
    """nn.Linear(3, 1) 하나로 된 다중 선형 회귀 모델. / Multivariable linear regression with one nn.Linear(3, 1)."""

    def __init__(self):
        """self.linear = nn.Linear(3, 1) 을 만듭니다. / Create self.linear = nn.Linear(3, 1)."""
        super().__init__()
        raise NotImplementedError("MultivariateLinearRegressionModel.__init__: 여기에 코드를 작성하세요 / write your code here")

    def forward(self, x):
        """x: (m, 3) -> self.linear(x): (m, 1)."""
        raise NotImplementedError("MultivariateLinearRegressionModel.forward: 여기에 코드를 작성하세요 / write your code here")
