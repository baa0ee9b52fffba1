"""指标权重: weights for a scheme version (AHP in the scheme editor); docs/weights.md."""
