"""Maintainer tooling, not part of what a learner imports.

``notebooks`` derives the student notebooks from the solutions and checks their structure
(``python -m course_utils._maintain.notebooks derive|check``); ``readme`` renders the
README's chapter and results tables and replaces any marked section of a Markdown file;
``testing`` imports the definitions a chapter notebook teaches, for teach-then-import tests.
"""
