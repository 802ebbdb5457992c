"""Measurement definitions, one module per capability; bench.py imports every module here."""
