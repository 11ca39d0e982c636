"""NNCF movement-sparsity training: set-up (nncf_setup), loop, checkpoints, sparsity statistics.

Submodules import torch/nncf; import them only where training or checkpoints are needed.
`checkpoint.load_sparse_model` is the entry point for stages that consume a trained model.
"""
