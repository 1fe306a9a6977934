"""Grading a whole class: `course grade-all` and `course gradebook`.

    layouts.py     read the folders instructors download (plain, Gradescope, Canvas, nbgrader)
    staging.py     one submission -> a clean folder to grade, its content hash and its problems
    store.py       the output folder: per-student files written atomically, records read back
    runner.py      the batch: shards, skip/resume, a process pool, the progress bar
    gradebook.py   gradebook.csv, the Canvas import CSV, the terminal summary
    feedback.py    each student's HTML feedback page
    similarity.py  pairs of unusually alike submissions (copydetect), stub code removed
    report.py      report.html and its matplotlib figures
    madeclass.py   a made class (reference, stub, wrong variants, a copy...) for the demo, tests, bench

Each submission is graded by `autograder.grading.grade_submission`, exactly as `course grade`.
"""
