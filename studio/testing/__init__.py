"""Test helpers for latent-studio and its plugins (a pytest plugin: see fixtures.py)."""
