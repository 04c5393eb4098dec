"""Providers behind one adapter interface."""
