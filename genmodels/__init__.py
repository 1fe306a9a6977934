"""Code shared by lectures, demos and the autograder's smoke tests: data, reference models, training loops, plots.

Importing this package is cheap (no torch, no torchvision): each submodule
imports what it needs. It is copied into the grading sandbox, so it must never
download anything or read files outside the Python install.
"""
