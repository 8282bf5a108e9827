"""Tests of the Marketplace simulator (no Django needed)."""
