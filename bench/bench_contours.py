"""Placeholder until the contour benchmark lands."""
