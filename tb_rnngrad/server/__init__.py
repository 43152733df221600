"""The rnngrad plugin inside TensorBoard: loader, routes, parameters, reader.

Nothing in this package imports TensorFlow.
"""
