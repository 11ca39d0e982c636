"""report.html of the tiny pipeline as a reader sees it: rendered by headless Chromium.

The DOM Chromium builds (`--dump-dom`) must hold the exact scope regexes of pipelines/tiny.yaml
(a `*` read as Markdown emphasis would vanish), the pipeline's description, the accuracy and
speedup numbers of its benchmark.json, and every image must decode (non-zero natural width). A
screenshot is kept in artefacts/ (git-ignored) for a human to look at.

CI (.ci/run) installs Chromium from the distribution's packages; there, a missing browser is a
failure. Elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from ov_movement.config.load import load_pipeline
from ov_movement.runner.execute import run_pipeline
from tests.pipelines import PIPELINES

ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# After the load event, record each image's decoded width where --dump-dom will serialise it.
IMAGE_PROBE = """<script>
window.addEventListener("load", () => {
  const widths = Array.from(document.images, (image) => image.naturalWidth);
  document.body.setAttribute("data-image-widths", JSON.stringify(widths));
});
</script>"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    message = f"no headless browser ({', '.join(BROWSERS)}) on PATH; `apt-get install chromium`"
    if _in_ci():
        pytest.fail(f"CI is set but {message} (.ci/run installs it)")
    pytest.skip(message + " (CI installs it and runs this test)")


def run_chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        browser,
        "--headless",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        # Virtual time runs until the page is idle: the load event and its handlers have run
        # before the DOM is dumped, without a wall-clock wait.
        "--virtual-time-budget=10000",
        *args,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


class _Dom(HTMLParser):
    """Text content (scripts and styles left out) and the attributes of <body>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.body: dict[str, str | None] = {}
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.body = dict(attrs)
        if tag in ("script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


@pytest.fixture(scope="module")
def tiny_report(tiny_pipeline) -> Path:
    """The views of tiny.yaml as it is (other tests may have pointed them at variants)."""
    workdir, _ = tiny_pipeline
    summary = run_pipeline(load_pipeline(PIPELINES / "tiny.yaml"), workdir=workdir, progress=False)
    assert summary.executed == []  # everything cached: the session's run, not a new one
    return workdir / "tiny-bert"


@pytest.mark.slow
def test_report_html_in_chromium_shows_exact_scopes_numbers_and_images(tiny_report, tmp_path):
    browser = chromium()
    html = (tiny_report / "report" / "report.html").read_text(encoding="utf-8")
    probe = tmp_path / "report-probe.html"
    probe.write_text(html.replace("</body>", IMAGE_PROBE + "\n</body>"), encoding="utf-8")
    dom = run_chromium(browser, tmp_path / "profile", "--dump-dom", probe.as_uri()).stdout
    parsed = _Dom()
    parsed.feed(dom)
    text = "".join(parsed.text)

    config = yaml.safe_load((PIPELINES / "tiny.yaml").read_text())
    compression = config["compression"]
    scopes = [entry["target_scopes"] for entry in compression["sparse_structure_by_scopes"]]
    for scope in scopes + compression["ignored_scopes"]:
        assert scope in text, f"{scope!r} not shown exactly"
    assert "{re}.*BertAttention.*" in text
    assert config["description"] in text

    benchmark = json.loads((tiny_report / "benchmark" / "benchmark.json").read_text())
    for model in ("dense", "pruned"):
        assert f"{100 * benchmark['accuracy'][model]['accuracy']:.2f}%" in text, model
    speedup = benchmark["speedup"]["pruned"]["latency"]
    assert " / ".join(f"{speedup[k]:.2f}x" for k in ("min", "median", "max")) in text
    noise = benchmark["speedup"]["pruned"]["noise"]["latency"]
    assert ("Noisy benchmark" in text) == bool(noise["noisy"])

    widths = json.loads(parsed.body.get("data-image-widths") or "null")
    assert widths is not None, "the load event never ran"
    # the accuracy-vs-latency, sparsity-lifecycle and kept-structure plots
    assert len(widths) == 3 and all(width > 0 for width in widths), widths

    ARTEFACTS.mkdir(exist_ok=True)
    screenshot = ARTEFACTS / "tiny-report.png"
    screenshot.unlink(missing_ok=True)
    report_url = (tiny_report / "report" / "report.html").as_uri()
    run_chromium(
        browser, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1200,4000", report_url
    )
    assert screenshot.stat().st_size > 10_000


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_missing_browser_fails_in_ci_and_skips_elsewhere(monkeypatch, ci):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", ci)
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(outcome, match="apt-get install chromium"):
        chromium()
