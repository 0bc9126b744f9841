"""Convert a network (PyTorch, ONNX, Keras, TFLite) to float32 and full-int8 TFLite, with a fidelity report."""

from edgekit.convert.api import ConvertResult, convert
from edgekit.convert.options import ConvertOptions

__all__ = ["ConvertOptions", "ConvertResult", "convert"]
