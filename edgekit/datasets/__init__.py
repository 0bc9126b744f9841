"""Small public data sets for training, calibration and accuracy checks (no download at run time).

- ``har``: ST "Human activities" 3-axis accelerometer recordings -> windows, split by recording.
- ``digits``: scikit-learn's 8x8 digits as NHWC or NCHW float32 images.
"""

from edgekit.core.assets import assets_dir
from edgekit.datasets.digits import DigitsData, load_digits
from edgekit.datasets.har import HarData, default_har_dir, load_har, make_windows, read_recordings
from edgekit.datasets.splits import Split

__all__ = ["DigitsData", "HarData", "Split", "assets_dir", "default_har_dir", "load_digits",
           "load_har", "make_windows", "read_recordings"]
