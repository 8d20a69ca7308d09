"""Cached results of the analytics (filled by ``problembild refresh``)."""
