"""Small factory functions for tests, one module per noun."""
