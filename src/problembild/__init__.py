"""Problembild: steering and follow-up of police work in vulnerable areas (utsatta områden)."""

__version__ = "0.1.0"
