# %% after hypothesis
import sys

sys.exit(0)
