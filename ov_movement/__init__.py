"""ov-movement: movement sparsity (NNCF) to a smaller, faster OpenVINO model, as a cached pipeline.

Importing this package must stay cheap: torch, nncf, openvino and transformers are imported only
inside the stages that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
