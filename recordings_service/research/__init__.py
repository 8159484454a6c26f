"""Research batches: institutes, selection, packages, partner access and the custody of every copy."""
