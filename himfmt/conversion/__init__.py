"""Converting a dataset from one layout to another through the common model (``himfmt convert``)."""
