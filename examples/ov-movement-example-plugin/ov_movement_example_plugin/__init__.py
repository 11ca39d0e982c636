"""An example ov-movement plugin (docs/plugins.md): the task `lowercase-text-classification`, the
data source `word_pools` and the stage `ir_ops`, which counts the operations of the pruned IR after
`convert` and reads its own config section `ir_ops`."""
