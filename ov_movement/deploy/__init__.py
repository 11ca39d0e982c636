"""From a masked torch model to deployable artefacts: structure, shrink, ONNX, OpenVINO IR.

- `structure`: which attention heads / FFN neurons a model's weights make dead (read from zeros).
- `shrink`: physically drop them from the torch model (including whole blocks).
- `onnx_export`: named, dynamic-axis ONNX export and ONNX Runtime inference.
- `ir`: dense and pruned OpenVINO IR (the pruning transformation) and f32 inference.
- `stats`: per-MatMul shapes, parameters, FLOPs and removal efficiency of an IR.
- `verify`: output comparison in optimum's order (names, shapes, values), ✓/✗ per output.

Submodules import torch/openvino at module level; this package file imports nothing heavy.
"""
