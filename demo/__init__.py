"""Demo: RNNs on long-range dependency tasks, logged for TensorBoard."""
