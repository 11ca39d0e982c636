"""Measuring deployed models: benchmark_app runs (`benchmark_app`), their summary (`summary`),
IR accuracy (`accuracy`) and the machine record (`machine`).

Kept apart from the stage so that `benchmarks/` scripts can reuse the same interleaved runs.
Importing this package does not import openvino; the functions that need it import it lazily.
"""
