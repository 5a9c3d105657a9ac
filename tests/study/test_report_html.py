"""The HTML listening report in a real headless browser (Debian's chromium + chromedriver through Selenium,
installed by scripts/install.sh), plus the page content checked against the store without a browser.

Artifacts: screenshots in test-artifacts/ at the repository root (gitignored)."""
from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
import tempfile
import time
from html import unescape
from pathlib import Path

import numpy as np
import pytest
import yaml

from llasa_search.study.config import parse_config
from llasa_search.study.html.site import run_anchor, utt_page_path
from llasa_search.study.items import StudyItem
from llasa_search.study.records import CandidateOutput, JobOutput
from llasa_search.study.report import make_report
from llasa_search.study.runner import run_sweep
from llasa_search.study.store import ResultStore

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROME_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--window-size=1300,1600"]


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed (pip install selenium; scripts/install.sh does it)"
    for exe in ("chromium", "chromedriver"):
        if shutil.which(exe) is None:
            return f"{exe} not installed (apt-get install chromium chromium-driver; scripts/install.sh does it)"
    return None


@pytest.fixture(scope="module")
def browser():
    why = _browser_missing()
    if why:
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for a in CHROME_ARGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(a)
    opts.binary_location = shutil.which("chromium")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path: Path, shot: str) -> list[dict]:
    """Load a page from file://, wait for its audio metadata, save a screenshot; returns console errors."""
    driver.get(path.resolve().as_uri())
    deadline = time.time() + 20
    while time.time() < deadline and not driver.execute_script(
            "return Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1 || a.error)"):
        time.sleep(0.2)
    ARTIFACTS.mkdir(exist_ok=True)
    png = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    (ARTIFACTS / shot).write_bytes(base64.b64decode(png["data"]))      # the whole page, not just the window
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def audio_durations(driver) -> list:
    return driver.execute_script("return Array.from(document.querySelectorAll('audio')).map(a => a.duration)")


# -- the demo report (tiny models, real search: best-of-n pool, beam and staged trees) --------------------------
@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (demo prompts)")
    from tests.study.test_search_executor import run_demo_sweep

    _, results = run_demo_sweep(tmp_path_factory.getbasetemp())
    out = tmp_path_factory.mktemp("html-report")
    make_report(results, out, x_axes=("candidates",), n_boot=100, formats=("png",))
    return results, out


def _cells(html: str, row_id: str | None = None) -> list[float]:
    return [float(x) for x in re.findall(r'data-value="([^"]+)"', html) if x]


@pytest.mark.slow
def test_demo_report_numbers_equal_the_store(demo_report):
    results, out = demo_report
    recs = ResultStore(results).records()
    index = (out / "index.html").read_text(encoding="utf-8")
    # the sampling row's WER cell: mean over utterances of the stored WER (failures as 1.0), in percent
    row = next(r for r in index.split("<tr>") if "<td>sampling</td>" in r)
    stored = [r["metrics"]["pocketsphinx"].get("wer", 1.0) if r["metrics"]["pocketsphinx"].get("ok", True) else 1.0
              for r in recs if r["strategy"] == "sampling"]
    assert _cells(row)[2] == pytest.approx(100 * np.mean(stored))           # [budget, n, WER, ...]
    # every candidate's search score on the utterance page equals the record's
    for rec in recs:
        page = (out / utt_page_path(rec["dataset"], rec["utt_id"])).read_text(encoding="utf-8")
        section = page.split(f'id="{run_anchor(rec)}"')[1].split("</section>")[0]
        for c in rec["candidates"]:
            for v, s in c["search_scores"].items():
                if isinstance(s, float) and math.isfinite(s):
                    assert f'data-value="{s!r}"' in section, (rec["config_name"], v, s)
    assert (out / "worst.html").is_file() and "Largest WER" in (out / "worst.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_demo_report_in_a_real_browser(demo_report, browser):
    results, out = demo_report
    assert open_page(browser, out / "index.html", "report-index.png") == []
    assert browser.execute_script("return document.querySelectorAll('table.results tbody tr').length") == 6
    budgets = "return Array.from(document.querySelectorAll('table.results tbody tr td:nth-child(3)'))" \
        ".map(td => +td.dataset.value)"
    before = browser.execute_script(budgets)
    click = "document.querySelector('table.results th:nth-child(3)').click();"
    assert browser.execute_script(click + budgets) == sorted(before) != before       # sorted by budget
    assert browser.execute_script(click + budgets) == sorted(before, reverse=True)  # again: descending
    assert [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"] == []
    links = browser.execute_script("return Array.from(document.querySelectorAll('a[href^=\"utt/\"]')).map(a => a.href)")
    assert len(links) == 2
    recs = ResultStore(results).records()
    rec = next(r for r in recs if r["strategy_kind"] == "beam")
    page = out / utt_page_path(rec["dataset"], rec["utt_id"])
    assert open_page(browser, page, "report-utterance.png") == []
    durations = audio_durations(browser)
    assert len(durations) >= 8 and all(d and d > 0 for d in durations), durations
    for r in (r for r in recs if r["utt_id"] == rec["utt_id"] and r["strategy_kind"] in ("beam", "staged")):
        trace = json.loads((results / r["trace_path"]).read_text())
        count = "return document.getElementById(arguments[0]).querySelectorAll(arguments[1]).length"
        assert browser.execute_script(count, run_anchor(r), "svg.tree .cand") == len(trace["candidates"]) > 2
        assert browser.execute_script(count, run_anchor(r), "svg.tree .chosen") == 1


# -- a results folder with failures, no saved audio and non-ASCII ids -----------------------------------------
EDGE_IDS = ["größe-01", "日本語 2", "spk1/utt1"]
EDGE_CONFIG = """
name: edge
models: [{name: m, path: none}]
datasets: [{name: d, kind: demo}]
evaluation: {verifiers: [pocketsphinx, mel_sim]}
strategies:
  - {name: bon, strategy: best_of_n, budgets: [2], verifiers: [sim_resemblyzer], pool: true}
seeds: [0]
output: {save_audio: false, save_candidates: false, save_traces: true}
"""
FAILED = {"score": -math.inf, "ok": False, "flags": ["empty"], "error": "audio rejected: empty"}


def _edge_executor(jobs):
    outs = []
    for j in jobs:
        cands = []
        for i in range(2):
            asr = FAILED if i == 0 else {"wer": 0.5, "ref_len": 4, "substitutions": 2, "deletions": 0,
                                          "insertions": 0, "score": -0.5, "transcript": "x"}
            cands.append(CandidateOutput(seed=i, chosen=i == 0, search_scores={"sim_resemblyzer": 0.9 - i / 10},
                                         metrics={"pocketsphinx": asr, "mel_sim": {"sim": 0.3, "score": 0.3}},
                                         audio=np.zeros(8000, np.float32), info={"uid": i + 1, "tokens": 20}))
        trace = {"request_id": j.item.utt_id, "chosen_uid": 1,
                 "candidates": [{"uid": i + 1, "parent_uid": 0, "role": "final", "selected": i == 0} for i in range(2)]}
        outs.append(JobOutput(search_scores={"sim_resemblyzer": 0.9}, metrics=cands[0].metrics,
                              ledger={"generated_tokens": 40, "candidates": 2}, audio=np.zeros(8000, np.float32),
                              candidates=cands, trace=trace, extra={"search_flags": ["no_scored_candidate"]}))
    return outs


@pytest.fixture(scope="module")
def edge_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("edge")
    items = [StudyItem(utt_id=u, text="one two three four", task="tts") for u in EDGE_IDS]
    run_sweep(parse_config(yaml.safe_load(EDGE_CONFIG)), root / "results", _edge_executor, progress=False,
              load_items=lambda ds: items)
    make_report(root / "results", root / "report", x_axes=("candidates",), n_boot=50, formats=("png",))
    return root / "results", root / "report"


def test_edge_pages_show_notes(edge_report):
    results, out = edge_report
    for u in EDGE_IDS:
        page = (out / utt_page_path("d", u)).read_text(encoding="utf-8")
        text = unescape(re.sub(r"<[^>]+>", " ", page))
        assert u in text
        assert "chosen audio not saved (output.save_audio: false)" in text
        assert "candidate audio not saved (output.save_candidates: false)" in text
        assert "pocketsphinx failed: empty, audio rejected: empty" in text
        assert "search: no_scored_candidate" in text      # the result's own flags, on the chosen row
        assert "<audio" not in page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "d pocketsphinx: 3 of 3" in index          # n=2 of a pool of 2 always picks the failed candidate


def test_edge_pages_in_a_real_browser(edge_report, browser):
    _, out = edge_report
    assert open_page(browser, out / "index.html", "report-edge-index.png") == []
    page = out / utt_page_path("d", EDGE_IDS[1])
    assert open_page(browser, page, "report-edge-utterance.png") == []
    notes = browser.execute_script("return Array.from(document.querySelectorAll('.note')).map(n => n.offsetHeight)")
    assert len(notes) >= 3 and all(h > 0 for h in notes)          # visible, not just present
    assert browser.execute_script("return document.querySelector('h1').textContent") == EDGE_IDS[1]


def test_cjk_ids_render_as_glyphs(edge_report, browser):
    """Each character draws its own shape, not the same missing-glyph box ("tofu") for all."""
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout \
        if shutil.which("fc-list") else "unknown"
    if not fonts.strip():
        pytest.skip("no CJK font installed (scripts/install.sh installs fonts-wqy-microhei)")
    _, out = edge_report
    open_page(browser, out / utt_page_path("d", EDGE_IDS[1]), "report-edge-cjk.png")
    glyphs = browser.execute_script(GLYPHS_JS, browser.find_element("css selector", "h1"), "日本語")
    assert all(ink > 0 for ink, _ in glyphs) and len({shape for _, shape in glyphs}) == 3, glyphs


# Each character drawn alone in the element's font on a canvas: (pixels inked, a hash of the drawing).
GLYPHS_JS = """
const style = getComputedStyle(arguments[0]);
const c = document.createElement('canvas'); c.width = 96; c.height = 96;
const g = c.getContext('2d', {willReadFrequently: true});
g.font = `48px ${style.fontFamily}`;
return Array.from(arguments[1]).map(ch => {
  g.clearRect(0, 0, 96, 96); g.fillText(ch, 8, 64);
  const px = g.getImageData(0, 0, 96, 96).data; let ink = 0, h = 0;
  for (let i = 3; i < px.length; i += 4) { if (px[i]) ink++; h = (h * 31 + px[i]) | 0; }
  return [ink, h];
});
"""


# -- `llasa-search inspect` on one synthesize run (tiny models made by the demo sweep above) --------------------
@pytest.fixture(scope="module")
def inspected(demo_report, tmp_path_factory):
    from llasa_search.cli import main

    results, _ = demo_report
    item = ResultStore(results).records()[0]["item"]
    root = tmp_path_factory.mktemp("inspect")
    argv = ["synthesize", "--model", "tiny", "--device", "cpu", "--text", item["text"], "--prompt-wav",
            item["prompt_wav"], "--prompt-text", item["prompt_text"], "--strategy", "beam", "-o", "beam_width=2",
            "-o", "expansions=2", "-o", "step_tokens=25", "-o", "max_new_tokens=75",
            "-o", "prm_verifier=sim_resemblyzer", "--out", str(root / "run" / "best.wav"),
            "--trace", str(root / "run" / "trace.json"), "--save-candidates", str(root / "run" / "cands")]
    assert main(argv) == 0
    assert main(["inspect", str(root / "run" / "trace.json"), "--out", str(root / "page")]) == 0
    return json.loads((root / "run" / "trace.json").read_text()), root / "page" / "index.html"


@pytest.mark.slow
def test_inspect_page_in_a_real_browser(inspected, browser):
    trace, page = inspected
    finals = [c for c in trace["candidates"] if c["role"] == "final"]
    text = page.read_text(encoding="utf-8")
    for c in finals:
        for v, s in c["scores"].items():
            if isinstance(s, float) and math.isfinite(s):
                assert f'data-value="{s!r}"' in text
    assert open_page(browser, page, "inspect.png") == []
    durations = audio_durations(browser)
    empty = text.count("empty audio (0 samples)")          # a candidate that ended at once gets a note, no player
    assert len(durations) + empty == len(finals) + 2 and all(d > 0 for d in durations)      # + chosen + prompt
    assert browser.execute_script("return document.querySelectorAll('svg.tree .cand').length") == \
        len(trace["candidates"])


def test_inspect_refuses_what_is_not_a_trace(tmp_path, capsys):
    from llasa_search.cli import main

    (tmp_path / "x.json").write_text("[1, 2]")
    assert main(["inspect", str(tmp_path / "x.json"), "--out", str(tmp_path / "o")]) == 2
    assert main(["inspect", str(tmp_path / "missing.json"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "is not a search trace" in err and "no trace file" in err
