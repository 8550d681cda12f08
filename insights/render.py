"""The report as people see it: PNG plots and one HTML page, both from the figures' dict.

The plots are given only language codes, intent, action and step names and
numbers, never a visitor's text; the page shows the (masked) unanswered
messages as escaped text. Matplotlib's object API (no pyplot) keeps the
rendering free of global state, so the web server can render in a thread.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

COLOURS = ("#1f5f99", "#d9822b", "#3a8d5d", "#b03a48", "#6f5aa8", "#7a7a7a")
NUMBER = re.compile(r"[0-9.,%]+")
IMAGES = ("overview", "fallback", "funnel", "escalations", "intents", "answers")

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#1d1d1d;padding:0 16px}
h1{font-size:24px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ccc}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #d4d4d4;padding:3px 8px;text-align:left;
vertical-align:top}td.n,th.n{text-align:right}img{max-width:100%;border:1px solid #eee}
.muted{color:#666}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}
form{margin:12px 0}input{margin:0 8px 0 4px}
"""
# The page's server allows exactly this style block (Content-Security-Policy hash), nothing inline else.
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _bars(axes: Any, labels: Sequence[str], values: Sequence[float], title: str, colour: str = COLOURS[0],
          horizontal: bool = False, percent: bool = False) -> None:
    positions = range(len(labels))
    bars = (axes.barh if horizontal else axes.bar)(positions, values, color=colour)
    (axes.set_yticks if horizontal else axes.set_xticks)(list(positions))
    (axes.set_yticklabels if horizontal else axes.set_xticklabels)(list(labels))
    if horizontal:
        axes.invert_yaxis()
    axes.set_title(title, fontsize=10)
    axes.bar_label(bars, labels=[f"{v:.1%}" if percent else f"{v:,.0f}" for v in values], fontsize=8)
    axes.margins(x=0.15) if horizontal else axes.margins(y=0.15)
    if not percent:
        (axes.xaxis if horizontal else axes.yaxis).set_major_locator(MaxNLocator(integer=True))


def figures(report: Dict[str, Any]) -> Dict[str, Figure]:
    """One matplotlib figure per plot of the page."""
    languages: List[str] = report["languages"]
    by = report["by_language"]
    made: Dict[str, Figure] = {}

    figure = _figure(11, 3.2)
    for axes, key, title in zip(figure.subplots(1, 3), ("conversations", "messages", "language_switches"),
                                ("conversations", "visitor messages", "language switches (from)")):
        _bars(axes, languages, [by[lang][key] for lang in languages], title)
    made["overview"] = figure

    figure = _figure(8, 3.2)
    axes = figure.subplots()
    shares = [by[lang]["fallback_share"] for lang in languages]
    _bars(axes, languages, shares, "share of turns ending in the fallback or \"did you mean\"", COLOURS[1],
          percent=True)
    axes.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    made["fallback"] = figure

    figure = _figure(11, 3.6)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    steps = list(report["steps"])
    _bars(left, list(report["steps"].values()), [report["totals"]["funnel"][s] for s in steps],
          "conversations reaching each step (all languages)", COLOURS[2], horizontal=True)
    width = 0.8 / len(languages)
    for i, lang in enumerate(languages):
        left_edges = [x + i * width for x in range(len(steps))]
        right.bar(left_edges, [by[lang]["funnel"][s] for s in steps], width, label=lang, color=COLOURS[i % 6])
    right.set_xticks([x + 0.4 - width / 2 for x in range(len(steps))])
    right.set_xticklabels([label.split(" ")[0].rstrip(":") for label in report["steps"].values()])
    right.set_title("per language", fontsize=10)
    right.legend(fontsize=8, ncol=3)
    made["funnel"] = figure

    figure = _figure(11, 3.6)
    left, right = figure.subplots(1, 2)
    _bars(left, languages, [by[lang]["escalations"] for lang in languages], "escalations to CPS Priority Support",
          COLOURS[3])
    topics = list(report["totals"]["escalation_topics"].items())[:10]
    _bars(right, [t for t, _ in topics], [n for _, n in topics], "their topics (all languages)", COLOURS[3],
          horizontal=True)
    made["escalations"] = figure

    figure = _figure(12, 7.5)
    for i, (axes, lang) in enumerate(zip(figure.subplots(2, 3).ravel(), languages)):
        top = report["top_intents"][lang][:8]
        _bars(axes, [t for t, _ in top], [n for _, n in top], f"intents asked most: {lang}", COLOURS[i % 6],
              horizontal=True)
        axes.tick_params(axis="y", labelsize=8)
    made["intents"] = figure

    rows = report["answers_not_helping"]["all"][:12]
    figure = _figure(11, 1.4 + 0.3 * max(len(rows), 2))
    axes = figure.subplots()
    names = [r["answer"] for r in rows]
    again = [r["rephrased"] / r["shown"] for r in rows]
    human = [r["human"] / r["shown"] for r in rows]
    axes.barh(range(len(rows)), again, color=COLOURS[1], label="rephrased next")
    axes.barh(range(len(rows)), human, left=again, color=COLOURS[3], label="asked for a person next")
    axes.set_yticks(list(range(len(rows))))
    axes.set_yticklabels(names, fontsize=8)
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    axes.set_title("answers followed by a rephrase or a request for a person (share of times shown)", fontsize=10)
    axes.legend(fontsize=8)
    made["answers"] = figure

    for figure in made.values():
        figure.tight_layout()
    return made


def png_images(report: Dict[str, Any]) -> Dict[str, bytes]:
    """The plots as PNG bytes, by name."""
    images = {}
    for name, figure in figures(report).items():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        images[name] = buffer.getvalue()
    return images


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Integers with separators, floats as percentages, numbers right-aligned, everything escaped."""
    def cell(value: Any) -> str:
        numeric = isinstance(value, (int, float)) or NUMBER.fullmatch(str(value))
        text = f"{value:,}" if isinstance(value, int) else f"{value:.1%}" if isinstance(value, float) else str(value)
        return f"<td{' class=n' if numeric else ''}>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_page(report: Dict[str, Any], image_src: Callable[[str], str], form_action: Optional[str] = None) -> str:
    """The page. `image_src` says where each plot is (a file beside it, or a data: URL)."""
    languages = report["languages"]
    by, total = report["by_language"], report["totals"]
    e = html.escape
    image = lambda name, alt: f'<img src="{e(image_src(name))}" alt="{e(alt)}">'  # noqa: E731
    since, until = report["range"]["since"], report["range"]["until"]
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>CPS sign-up assistant: insights</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>What visitors ask and where the assistant fails them</h1>",
        f"<p class=\"muted\">Conversations with a visitor's message from {e(since or 'the start')} to "
        f"{e(until or 'now')} (UTC); generated {e(report['generated'])}. Visitors' texts are shown as the guard "
        "allows: messages holding a card number, IBAN or password are withheld, e-mail addresses and tokens "
        "masked.</p>",
    ]
    if form_action is not None:
        parts.append(
            f'<form method="get" action="{e(form_action)}">from <input type="date" name="since" '
            f'value="{e((since or "")[:10])}">to (exclusive) <input type="date" name="until" '
            f'value="{e((until or "")[:10])}"><button>show</button> '
            f'<a href="{e(form_action)}/report.json">JSON</a></form>')
    metrics = [("conversations", "conversations"), ("messages", "visitor messages"),
               ("fallback_turns", "turns ending in the fallback"), ("did_you_mean", "… of them \"did you mean\""),
               ("fallback_share", "share of turns in the fallback"), ("escalations", "escalations to support"),
               ("tickets_opened", "support tickets opened"), ("language_switches", "language switches (from)"),
               ("unanswered", "unanswered messages"), ("unanswered_withheld", "… withheld (sensitive)")]
    parts += ["<h2>Per language</h2>",
              _table(["", *languages, "all"], [[label, *(by[l][k] for l in languages), total[k]]
                                                for k, label in metrics]),
              image("overview", "conversations, messages and language switches per language"),
              image("fallback", "share of turns ending in the fallback per language")]
    pairs = report["language_switch_pairs"]
    if pairs:
        parts.append(_table(["switch", "times"], [[k.replace(">", " → "), v] for k, v in pairs.items()]))

    steps = report["steps"]
    parts += ["<h2>The guided sign-up</h2>",
              _table(["step", *languages, "all"], [[label, *(by[l]["funnel"][s] for l in languages),
                                                    total["funnel"][s]] for s, label in steps.items()]),
              image("funnel", "the sign-up funnel")]

    parts += ["<h2>Escalations to CPS Priority Support</h2>", image("escalations", "escalations and their topics"),
              "<div class=\"grid\">"]
    for lang in languages:
        topics = by[lang]["escalation_topics"]
        if topics:
            parts.append(f"<div><h3>{e(lang)}</h3>{_table(['topic', 'escalations'], list(topics.items()))}</div>")
    parts.append("</div>")

    parts += ["<h2>Unanswered messages</h2>",
              "<p class=\"muted\">Grouped by similarity once folded (case, diacritics, punctuation), most frequent "
              "first, with the intent the model ranked highest and its mean confidence. "
              "<code>make insights-export</code> writes them all as CSV for annotation.</p>"]
    for lang in languages:
        rows = [[g["text"], g["count"], "; ".join(g["variants"][1:4]), g["guess"], f"{g['confidence']:.2f}"]
                for g in report["unanswered"][lang]]
        parts.append(f"<h3>{e(lang)}</h3>" + (_table(["message", "times", "also written as", "model's guess",
                                                      "confidence"], rows) if rows else "<p>none</p>"))

    parts += ["<h2>What visitors ask</h2>", image("intents", "the intents asked most per language"),
              "<div class=\"grid\">"]
    for lang in languages:
        parts.append(f"<div><h3>{e(lang)}</h3>{_table(['intent', 'messages'], report['top_intents'][lang])}</div>")
    parts += ["</div>", "<h2>Answers that did not help</h2>",
              "<p class=\"muted\">How often the visitor's next message asked the same again (the same intent, "
              "or nearly the same words) or asked for a person, after each answer.</p>",
              image("answers", "answers followed by a rephrase or a request for a person"),
              _table(["answer", "shown", "rephrased next", "person next", "share"],
                     [[r["answer"], r["shown"], r["rephrased"], r["human"], r["share"]]
                      for r in report["answers_not_helping"]["all"]]),
              "</body></html>"]
    return "\n".join(parts)


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def write_report(report: Dict[str, Any], out_dir: Path) -> Path:
    """index.html, report.json and the PNGs into `out_dir`; returns the page's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, png in png_images(report).items():
        (out_dir / f"{name}.png").write_bytes(png)
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    page = out_dir / "index.html"
    page.write_text(html_page(report, lambda name: f"{name}.png"), encoding="utf-8")
    return page
