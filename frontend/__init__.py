"""The frontend ES modules, shipped inside the tb_rnngrad package."""
