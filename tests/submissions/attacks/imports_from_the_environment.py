# %% not an attack: import a module that exists only in the grader's Python environment's own
# site-packages (a test puts it there), as a student's `import numpy` would.
import only_in_the_tmp_venv as _only_in_the_tmp_venv

assert _only_in_the_tmp_venv.VALUE == 1
