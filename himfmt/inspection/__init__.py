"""Looking at a dataset without changing it: statistics and contact sheets (``himfmt stats``, ``himfmt preview``)."""
