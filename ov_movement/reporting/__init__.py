"""The report: reading upstream outputs (`sources`, `collect`), tables, plots, Markdown and HTML.

Nothing here imports torch or openvino; matplotlib is imported only when a plot is drawn.
"""
