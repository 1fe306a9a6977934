"""Code that runs in the sandboxed process, next to student code: the runner and the probe kit.

Nothing here may import the rest of `autograder` (only this package and the
exercise's probes are copied into the sandbox), and nothing here knows an answer.
"""
