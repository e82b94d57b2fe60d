"""File access: directory trees, image codecs, video streams, atomic writes."""
