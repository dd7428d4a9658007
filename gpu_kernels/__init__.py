"""Hardware-agnostic compute: numpy/torch/PyAV only; no storage, no queues, no clouds."""

import os

# torch's OpenMP threads spin after every parallel region by default; between the small
# inference batches of a streaming job that spinning takes the cores the video decoder and the
# VP9 encoder need (~15% of crop-and-infer's wall time on 2 cores). Must be set before torch
# loads; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
