"""The on-disk contract of the rnngrad plugin: metadata, layer description,
statistics, validation and `.npy` bytes.

Nothing in this package imports TensorFlow; it needs NumPy, protobuf and
TensorBoard's protos only.
"""
