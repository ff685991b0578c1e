"""edge-vision: camera inference on the Raspberry Pi.

Importing this package is cheap: the TFLite interpreter, OpenCV and paho-mqtt are loaded
only by the modules that use them.
"""

from edge.errors import (
    BundleError,
    ConfigError,
    EdgeError,
    ImageError,
    InterpreterUnavailableError,
    ModelError,
    PublishError,
    SourceError,
)

__version__ = "0.1.0"

__all__ = [
    "BundleError",
    "ConfigError",
    "EdgeError",
    "ImageError",
    "InterpreterUnavailableError",
    "ModelError",
    "PublishError",
    "SourceError",
    "__version__",
]
