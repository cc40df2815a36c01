#!/usr/bin/env python3
"""One self-contained HTML report of a run or a sweep: analysis/report.py DIR [--out FILE]
[--target ACC]

DIR is a run folder (eval.csv) or a sweep folder (sweep.csv). Makes the plots first (plot_run.py
or plot_sweep.py into DIR/plots/, which removes its stale outputs), then writes DIR/report.html
(or --out): the tables of summary.md / table.md as HTML tables and every figure embedded as a
base64 PNG, so the one file can be mailed or archived without its folder.
"""
import argparse
import base64
import html
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def inline(text):
    """Markdown inline marks this project's tables use: **bold**, `code`."""
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def markdown(md):
    """The subset of markdown plot_run.py and plot_sweep.py write: headings, bullets, pipe tables,
    paragraphs."""
    out, rows, bullets = [], [], []

    def flush():
        if rows:
            cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows
                     if not re.fullmatch(r"\|?[\s|:-]+\|?", r.strip())]
            out.append("<table>")
            out.append("<tr>" + "".join(f"<th>{inline(c)}</th>" for c in cells[0]) + "</tr>")
            for r in cells[1:]:
                out.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>")
            out.append("</table>")
            rows.clear()
        if bullets:
            out.append("<ul>" + "".join(f"<li>{inline(b)}</li>" for b in bullets) + "</ul>")
            bullets.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            if bullets:
                flush()
            rows.append(line)
            continue
        if line.startswith("- "):
            if rows:
                flush()
            bullets.append(line[2:])
            continue
        flush()
        m = re.match(r"(#+)\s+(.*)", line)
        if m:
            level = min(len(m.group(1)) + 1, 6)  # h1 is the report's own title
            out.append(f"<h{level}>{inline(m.group(2))}</h{level}>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush()
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--out")
    ap.add_argument("--target", type=float)
    a = ap.parse_args()
    if os.path.exists(os.path.join(a.dir, "sweep.csv")):
        kind, script, tables = "sweep", "plot_sweep.py", ["table.md"]
    elif os.path.exists(os.path.join(a.dir, "eval.csv")):
        kind, script, tables = "run", "plot_run.py", ["summary.md"]
    else:
        print(f"report: {a.dir}: neither a run folder (eval.csv) nor a sweep folder (sweep.csv)",
              file=sys.stderr)
        sys.exit(2)
    plots = os.path.join(a.dir, "plots")
    cmd = [sys.executable, os.path.join(HERE, script), a.dir, "--out", plots]
    if a.target is not None:
        cmd += ["--target", str(a.target)]
    r = subprocess.run(cmd)
    if r.returncode:
        sys.exit(r.returncode)
    name = os.path.basename(os.path.normpath(a.dir))
    body = [f"<h1>slsim {kind}: {html.escape(name)}</h1>"]
    for t in tables:
        path = os.path.join(plots, t)
        if os.path.exists(path):
            with open(path) as f:
                body.append(markdown(f.read()))
    for png in sorted(p for p in os.listdir(plots) if p.endswith(".png")):
        with open(os.path.join(plots, png), "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        title = html.escape(png[:-4].replace("_", " "))
        body.append(f'<figure><img alt="{title}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{title}</figcaption></figure>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;font-size:90%}"
             "th,td{border:1px solid #bbb;padding:2px 6px;text-align:left}"
             "th{background:#eee}img{max-width:100%}figure{margin:2em 0}"
             "figcaption{color:#555}")
    doc = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
           f"<title>slsim {kind}: {html.escape(name)}</title><style>{style}</style></head>"
           "<body>\n" + "\n".join(body) + "\n</body></html>\n")
    out = a.out or os.path.join(a.dir, "report.html")
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, out)
    print(f"report: {out}")


if __name__ == "__main__":
    main()
