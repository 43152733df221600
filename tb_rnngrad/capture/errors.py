"""The error raised when gradients cannot be captured.

Defined in `tb_rnngrad.errors` (which imports nothing, for the PyTorch side)
and re-exported here for the Keras capture.
"""

from tb_rnngrad.errors import CaptureError

__all__ = ["CaptureError"]
