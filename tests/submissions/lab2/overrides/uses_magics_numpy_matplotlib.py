# %% after hypothesis
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt

xs = np.linspace(0, 3, 4)
plt.plot(xs, 2 * xs + 1)
plt.title("H(x)")
plt.show()
