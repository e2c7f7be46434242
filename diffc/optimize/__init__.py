"""Optimization passes over generated functions, one per file."""
