"""Demo: SimpleRNN, GRU and LSTM on the adding problem, logged for TensorBoard."""
