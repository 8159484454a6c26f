"""Callvault core: models, services and adapters. Never imports Flask."""
