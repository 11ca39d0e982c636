"""report.html: the Markdown report rendered once more, self-contained (images inlined as base64).

markdown-it-py comes with rich (already a dependency), so HTML costs no extra package.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


def _inline_images(body: str, image_dir: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        path = image_dir / html.unescape(match.group(1))
        if not path.is_file():
            return match.group(0)
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{encoded}"'

    return re.sub(r'src="([^":]+\.png)"', replace, body)


def render_html(markdown_text: str, image_dir: Path, title: str) -> str:
    from markdown_it import MarkdownIt

    # Raw HTML off: report.md escapes every value (reporting/literal.py), and a stray `<` in one
    # must stay text rather than become markup.
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown_text)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"{_inline_images(body, image_dir)}</body>\n</html>\n"
    )


__all__ = ["render_html"]
