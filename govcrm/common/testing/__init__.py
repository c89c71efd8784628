"""Helpers for tests that run GovCRM as real processes (see processes.py)."""
