# %% attack: one 64 MB print, then 100 displays of 1 MB each, in one notebook cell.
from IPython.display import HTML as _HTML, display as _display

print("x" * 64_000_000)
for _ in range(100):
    _display(_HTML("<p>" + "y" * 1_000_000 + "</p>"))
