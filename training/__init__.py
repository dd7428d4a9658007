"""Training for the caption-extents model: synthetic caption strips, the training loop, metrics.

Run from the repository root: ``python -m training.train --out gpu_kernels/weights/extents_v1.pt``.
Nothing here is imported by ``gpu_kernels``/``tasks``/``workers``; it is not packaged.
"""
