"""The error raised when gradients cannot be captured (Keras or PyTorch).

Importing this module imports nothing else, so the PyTorch capture can raise
the same error as the Keras one without loading TensorFlow.
"""


class CaptureError(ValueError):
    """A model, layer selection or batch that gradient capture cannot use.

    The message says what was given, what was expected and what to do.
    It subclasses ValueError so callers that catch ValueError keep working.
    """
