"""Evaluation forms, scoring calls on them, and score trends."""
