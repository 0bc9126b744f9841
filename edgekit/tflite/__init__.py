"""Read a .tflite flatbuffer into a small graph IR (edgekit.tflite.ir)."""
