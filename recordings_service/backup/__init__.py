"""Backup and restore of a whole installation: database, key material and stored objects."""
