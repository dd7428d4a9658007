"""Synthetic clips with burned-in captions whose extents and text are known (fixtures, demo)."""
