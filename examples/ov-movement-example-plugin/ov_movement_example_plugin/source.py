"""A data source: generated texts, each drawn from one of two word pools (the pool is the label).
Deterministic for `data.seed`; `data.synthetic_samples` examples; `data.path` is not read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ov_movement.config.pipeline import LABELLED_TEXT, DataConfig
from ov_movement.data.examples import Example, RawData, limit_splits, stratified_split
from ov_movement.data.sources import DataSource

POOLS = {
    "Weather": ("RAIN", "Snow", "wind", "Cloud", "SUN", "storm"),
    "Food": ("Bread", "APPLE", "soup", "Rice", "CHEESE", "pear"),
}


def read_word_pools(cfg: DataConfig, config_dir: Path) -> RawData:
    rng = np.random.RandomState(cfg.seed)
    names = sorted(POOLS)
    examples = []
    for _ in range(cfg.synthetic_samples):
        label = int(rng.randint(len(names)))
        words = rng.choice(POOLS[names[label]], size=6)
        examples.append(Example(" ".join(words), label))
    train_idx, eval_idx = stratified_split([e.label for e in examples], cfg.eval_fraction, cfg.seed)
    train, evaluation = limit_splits([examples[i] for i in train_idx], [examples[i] for i in eval_idx], cfg)
    return RawData(train=train, eval=evaluation, label_names=names)


WORD_POOLS = DataSource("word_pools", {LABELLED_TEXT: read_word_pools})
