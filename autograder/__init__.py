"""Reference package of *Attention from first principles*.

One module per topic holds the reference implementations of the graded functions
(``autograder.softmax``, ...); ``autograder.checking`` compares a student's function with
them; ``autograder.grading`` is the instructor's command line.

This file imports nothing on purpose: the grading sandbox imports ``autograder.calling``
without loading any reference implementation into the process that runs student code.
"""
