"""Measuring: run a model on a device, parse the raw output (pure functions), record trace rows."""
