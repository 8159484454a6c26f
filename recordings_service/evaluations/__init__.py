"""Evaluation forms, scoring calls on them, score trends, and the default form."""
