"""Lab 1: 자동 미분과 L1 손실 / Autograd and the L1 loss.

함수의 이름과 시그니처는 채점기가 그대로 사용하므로 바꾸지 마세요.
각 함수 안의 `raise NotImplementedError(...)` 줄을 여러분의 코드로 바꾸세요.

The grader calls these functions by name: keep the names and signatures.
Replace each `raise NotImplementedError(...)` line with your code.
"""

import torch
import torch.nn as nn
import torch.optim as optim


def quadratic_grad(w):
    """z = 2 * w**2 + 5 를 autograd로 미분해 dz/dw 를 구합니다.
    Differentiate z = 2 * w**2 + 5 with autograd and return dz/dw.

    w: 파이썬 float / a Python float.
    torch.tensor(w, requires_grad=True) 로 텐서를 만들고 z.backward() 를 호출하세요 /
    make torch.tensor(w, requires_grad=True), then call z.backward().
    반환 / returns: w.grad 의 값, 파이썬 float / the value of w.grad, as a Python float.
    """
    w = torch.tensor(float(w), requires_grad=True)
    z = 2 * w ** 2 + 5
    z.backward()
    return w.grad.item()


def accumulated_grads(w, calls):
    """z = 2 * w 로 backward() 를 calls 번 호출하며, 매번 w.grad 를 기록합니다 (zero_grad 없음).
    Call backward() on z = 2 * w `calls` times, recording w.grad after each call (no zeroing).

    w: 파이썬 float / a Python float; calls: backward() 호출 횟수 / number of backward() calls.
    w.grad 를 지우지 않으므로 기울기가 누적됩니다: 2, 4, 6, ... /
    nothing clears w.grad, so the gradient accumulates: 2, 4, 6, ...
    반환 / returns: 길이 calls 인 float 리스트 / a list of `calls` Python floats.
    """
    w = torch.tensor(float(w), requires_grad=True)
    grads = []
    for _ in range(calls):
        z = 2 * w
        z.backward()
        grads.append(w.grad.item())
    return grads


def l1_cost(prediction, y):
    """평균 절대 오차 (nn.L1Loss 와 같은 값). / The mean absolute error (what nn.L1Loss computes).

    cost = mean(|prediction - y|), 모든 원소에 대한 평균 / averaged over every element.
    prediction, y: 같은 모양 / same shape, e.g. (m, 1).
    반환 / returns: 0차원 텐서, autograd 로 미분 가능 / a 0-dim tensor autograd can differentiate.
    """
    return torch.mean(torch.abs(prediction - y))


def train_l1(x, y, lr=0.01, epochs=500, seed=0):
    """nn.Linear(1, 1) 모델을 L1 비용과 optim.SGD 로 epochs 번 학습합니다.
    Train an nn.Linear(1, 1) model with the L1 cost and optim.SGD for `epochs` updates.

    torch.manual_seed(seed) 바로 다음에 nn.Linear(1, 1) 을 만드세요 (초기값이 정해집니다) /
    create nn.Linear(1, 1) right after torch.manual_seed(seed) (this fixes its initial values).
    for epoch in range(epochs): zero_grad -> cost = l1_cost(model(x), y) -> backward -> step.
    x, y: (m, 1); lr: 학습률 / learning rate; seed: 초기화 시드 / initialisation seed.
    반환 / returns: (W, b, costs) -- W, b: 학습 후 가중치와 편향, 파이썬 float /
    weight and bias after training, as Python floats; costs: float 리스트, len == epochs,
    costs[i] = i 번째 갱신 전의 비용 / list of floats, costs[i] = the cost before update i.
    """
    torch.manual_seed(seed)
    model = nn.Linear(1, 1)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    costs = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        cost = l1_cost(model(x), y)
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
    return model.weight.item(), model.bias.item(), costs
