"""Making what a dataset config declares and the disk lacks (``himfmt fill``), and merging sharded runs."""
