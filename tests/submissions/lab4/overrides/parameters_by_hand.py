class MultivariateLinearRegressionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(torch.zeros(3, 1))
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x.matmul(self.W) + self.b
