"""The student release and the routes into other graders (otter-grader, nbgrader, Gradescope).

    release.py      `course release OUT`: the student bundle, leak-checked at the end
    fingerprint.py  normalised token fingerprints of code and prose
    leakcheck.py    what must never reach students, and the scan of a folder for it
    student_cli.py  the `course` command inside the bundle (public checks only)
    notebooks.py    notebook cells the otter and nbgrader exports share
    references.py   reference outputs stored on the autograder side of an export
    kernel.py       the course's checks run inside a notebook kernel (otter, nbgrader)
    otter.py        `course export otter OUT`: otter-assign master notebooks
    otter_plugin.py the otter plugin that gives partial credit per check
    nbgrader.py     `course export nbgrader OUT`: an nbgrader course directory
"""
