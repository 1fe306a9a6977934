"""The grading engine of genmodels-course: hidden checks, sandboxed runs, the `course` CLI.

Kept free of imports on purpose: a minimal copy of this package (the probe kit)
runs inside the sandbox next to untrusted student code.
"""
