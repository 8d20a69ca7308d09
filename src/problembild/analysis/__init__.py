"""Pure analytics for the local problem picture (lokal problembild).

This package never imports Django: it works on NumPy arrays and pandas frames.
Coordinates are SWEREF99 TM (EPSG:3006) metres unless a function says otherwise;
times are ``numpy.datetime64`` values; every random step takes an explicit ``seed``.
"""
