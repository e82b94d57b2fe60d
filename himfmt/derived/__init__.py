"""Sets derived from the mattes: guidance masks that imitate a detector, and trimaps (``himfmt masks``)."""
