"""Lab 3: 편향 없는 모델로 비용 최소화 / Minimizing Cost without Bias.

함수의 이름과 시그니처는 채점기가 그대로 사용하므로 바꾸지 마세요.
각 함수 안의 `raise NotImplementedError(...)` 줄을 여러분의 코드로 바꾸세요.

The grader calls these functions by name: keep the names and signatures.
Replace each `raise NotImplementedError(...)` line with your code.
"""

import torch


def hypothesis(x, W):
    """편향 없는 가설 H(x) = xW 를 계산합니다. / Compute the hypothesis without bias, H(x) = xW.

    x: (m, 1) 입력 / inputs; W: (1,) 가중치 / weight.
    반환 / returns: (m, 1) 예측값 / predictions.
    """
    raise NotImplementedError("hypothesis: 여기에 코드를 작성하세요 / write your code here")


def cost(x, y, W):
    """W에서의 평균 제곱 오차 / The mean squared error at W: mean((xW - y) ** 2).

    x, y: (m, 1); W: (1,).
    반환 / returns: 0차원 텐서, autograd로 미분 가능 / a 0-dim tensor autograd can differentiate.
    """
    raise NotImplementedError("cost: 여기에 코드를 작성하세요 / write your code here")


def gradient(x, y, W):
    """수업에서 정의한 기울기 / The lesson's gradient: sum((W * x - y) * x).

    합(sum)이며 2/m 을 곱하지 않습니다. / A plain sum, without the factor 2/m.
    x, y: (m, 1); W: (1,).
    반환 / returns: W와 같은 모양 (1,) / shaped like W, (1,).
    """
    raise NotImplementedError("gradient: 여기에 코드를 작성하세요 / write your code here")


def descent_step(x, y, W, lr):
    """경사 하강법 한 단계: 새 W = W - lr * gradient(x, y, W).
    One gradient-descent step: the new W = W - lr * gradient(x, y, W).

    W를 제자리에서 바꾸지 말고 새 텐서를 반환하세요 (`W -= ...` 금지).
    Return a new tensor; do not change W in place (no `W -= ...`).
    """
    raise NotImplementedError("descent_step: 여기에 코드를 작성하세요 / write your code here")


def cost_curve(x, y, Ws):
    """후보 W 값마다의 비용 / The cost at each candidate W.

    Ws: 1차원 텐서 / a 1-D tensor of W values, shape (n,).
    반환 / returns: 1차원 텐서 (n,), i번째 값은 cost(x, y, Ws[i]) / a 1-D tensor, entry i = cost at Ws[i].
    """
    raise NotImplementedError("cost_curve: 여기에 코드를 작성하세요 / write your code here")


def train(x, y, lr=0.1, epochs=10):
    """W = 0 에서 시작해 descent_step 으로 epochs + 1 번 갱신합니다 (수업의 range(nb_epochs + 1)).
    From W = 0, update with descent_step epochs + 1 times (the lesson's range(nb_epochs + 1)).

    반환 / returns: (W, history) -- W: (1,), 모든 갱신 후 / after every update;
    history: (W, cost) float 쌍의 리스트, len == epochs + 1, 각 epoch의 갱신 전 값 /
    a list of (W, cost) pairs of floats, len == epochs + 1, taken before each epoch's update.
    """
    raise NotImplementedError("train: 여기에 코드를 작성하세요 / write your code here")
