"""`course audit EXERCISE`: how good an exercise's hidden checks are, measured by mutation testing.

mutants.py makes small wrong versions of the reference solution (its answer regions only), runner.py
grades each with the exercise's hidden checks and compares its behaviour with the reference's on fresh
inputs, and report.py sums it up: the share of mutants that lose points, the survivors an instructor
should look at, how often the feedback names more than "differs from the reference", and whether every
correct alternative still gets full marks.
"""
