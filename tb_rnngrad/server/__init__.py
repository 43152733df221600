"""The rnngrad plugin inside TensorBoard: loader, routes (plugin),
parameters, data access (reader), JSON bodies (payloads), static files, cache.

Nothing in this package imports TensorFlow.
"""
