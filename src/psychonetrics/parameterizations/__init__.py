"""parameterizations."""
