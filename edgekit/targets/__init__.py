"""Targets: put what a device needs on it (firmware image, or the on-device runner and the model)."""
