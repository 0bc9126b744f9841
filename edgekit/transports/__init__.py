"""Transports: move bytes and files to and from devices, run programs there; they know nothing of models."""
