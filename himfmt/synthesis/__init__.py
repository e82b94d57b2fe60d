"""The compositing backend: kernels, motion and one module per recipe."""
