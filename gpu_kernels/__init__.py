"""Hardware-agnostic compute: numpy/torch/PyAV only; no storage, no queues, no clouds."""
