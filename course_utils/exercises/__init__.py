"""Exercise checkers, one module per chapter (``course_utils.exercises.ch00`` ...)."""
