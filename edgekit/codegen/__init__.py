"""Code generation: TFLite IR -> interpreter-free C (arena plan, kernels, emitter)."""
