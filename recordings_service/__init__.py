"""Callvault core, grouped by capability (the README's Layout): models, services, adapters. Never imports Flask."""
