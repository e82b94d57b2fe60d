"""Repairing a tree (``himfmt fix``): a copy in which what validation found is mended, every change listed."""
