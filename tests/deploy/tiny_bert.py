"""A tiny random BERT with chosen heads / FFN neurons zeroed directly on the weights.

Biases are random (HF initialises them to zero, which would hide bias-handling bugs); the zeroed
structure follows NNCF's structured masks: Q/K/V rows + bias and output-projection columns per
head, intermediate rows + bias and output columns per FFN neuron.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

VOCAB = 100
HIDDEN = 64
HEADS = 4
HEAD_DIM = HIDDEN // HEADS
FFN = 128


def tiny_bert(
    layers: int = 2,
    heads: Mapping[int, Iterable[int]] | None = None,
    neurons: Mapping[int, Iterable[int]] | None = None,
    seed: int = 0,
):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=HIDDEN,
        num_hidden_layers=layers,
        num_attention_heads=HEADS,
        intermediate_size=FFN,
        max_position_embeddings=128,
        num_labels=3,
    )
    config._attn_implementation = "eager"
    model = BertForSequenceClassification(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.normal_(0.0, 0.2)
        for layer, hs in (heads or {}).items():
            attn = model.bert.encoder.layer[layer].attention
            for h in hs:
                rows = slice(h * HEAD_DIM, (h + 1) * HEAD_DIM)
                for lin in (attn.self.query, attn.self.key, attn.self.value):
                    lin.weight[rows] = 0
                    lin.bias[rows] = 0
                attn.output.dense.weight[:, rows] = 0
        for layer, js in (neurons or {}).items():
            block = model.bert.encoder.layer[layer]
            idx = torch.tensor(sorted(js), dtype=torch.long)
            block.intermediate.dense.weight[idx] = 0
            block.intermediate.dense.bias[idx] = 0
            block.output.dense.weight[:, idx] = 0
    return model


def sample_inputs(batch: int = 4, seq: int = 32, seed: int = 0) -> dict[str, np.ndarray]:
    """Token ids with right padding on some rows, like tokenised eval text."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, (batch, seq), dtype=np.int64)
    mask = np.ones((batch, seq), dtype=np.int64)
    for row in range(1, batch, 2):
        mask[row, seq // 2 :] = 0
        ids[row, seq // 2 :] = 0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros((batch, seq), np.int64)}


def tiny_distilbert(heads: Mapping[int, Iterable[int]], neurons: Mapping[int, Iterable[int]], seed: int = 0):
    """The same sizes as `tiny_bert`, DistilBERT layout (attention holds its output projection)."""
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    torch.manual_seed(seed)
    config = DistilBertConfig(
        vocab_size=VOCAB,
        dim=HIDDEN,
        n_layers=2,
        n_heads=HEADS,
        hidden_dim=FFN,
        max_position_embeddings=128,
        num_labels=3,
    )
    config._attn_implementation = "eager"
    model = DistilBertForSequenceClassification(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.normal_(0.0, 0.2)
        for layer, hs in heads.items():
            attn = model.distilbert.transformer.layer[layer].attention
            for h in hs:
                rows = slice(h * HEAD_DIM, (h + 1) * HEAD_DIM)
                for lin in (attn.q_lin, attn.k_lin, attn.v_lin):
                    lin.weight[rows] = 0
                    lin.bias[rows] = 0
                attn.out_lin.weight[:, rows] = 0
        for layer, js in neurons.items():
            ffn = model.distilbert.transformer.layer[layer].ffn
            idx = torch.tensor(sorted(js), dtype=torch.long)
            ffn.lin1.weight[idx] = 0
            ffn.lin1.bias[idx] = 0
            ffn.lin2.weight[:, idx] = 0
    return model


def openvino_pass_removes_heads() -> bool:
    """Whether OpenVINO's pruning pass alone removes masked heads of a dynamic-axes BERT export.

    Upstream behaviour, documented (docs/compatibility.md): the pass follows a head through
    transformers 4.x's `view(batch, -1, heads, head_dim)` but not through 5.x's
    `(*input_shape, -1, head_dim)`. ov-movement drops heads torch-side, so removal is 100% on both."""
    import transformers

    return int(transformers.__version__.split(".")[0]) < 5
