"""Build the HTML docs from the notebooks with nbconvert: `python tools/build_docs.py` writes _docs/ (open _docs/index.html).

Quarto (nbdev's own docs builder) is not needed: every notebook in nbs/ and nbs/tutorials/ becomes one page, as it is
stored, outputs included; links between notebooks are pointed at the pages, and every page gets the same navigation bar.
Pages follow the reader's light or dark preference (JupyterLab's two themes). Explorers saved in a notebook are drawn on the page from their saved state, without a kernel: plotly.js and the explorer's
code are written once for the site (assets/), and nothing is fetched from the network."""
import argparse, html, re, shutil, sys
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent

def pages(nbs:Path) -> list[Path]:
    "The notebooks to publish: nbs/*.ipynb and nbs/tutorials/*.ipynb, skipping names starting with _ or ."
    found = sorted(nbs.glob('*.ipynb')) + sorted((nbs/'tutorials').glob('*.ipynb'))
    return [p for p in found if not p.name.startswith(('_', '.'))]

def title(nb) -> str:
    "A notebook's first markdown heading."
    for c in nb.cells:
        if c.cell_type == 'markdown' and (m := re.search(r'^#\s+(.+)$', c.source, re.M)): return m[1].strip()
    return 'lottery_nb'

def relink(text:str) -> str:
    "Point markdown links at notebooks (`x.ipynb`, `x.ipynb#part`) to their pages; the README's `nbs/...` links lose their `nbs/`."
    text = text.replace('](nbs/tutorials/)', '](tutorials/00_facilitators_guide.ipynb)').replace('](nbs/', '](')
    return re.sub(r'\]\(((?!https?:)[^)\s]*?)\.ipynb(#[^)]*)?\)', lambda m: f']({m[1]}.html{m[2] or ""})', text)

def copy_images(text:str, src_dir:Path, page:Path, out:Path) -> str:
    "Copy the local images a markdown cell shows (`![..](../tests/screenshots/x.png)`) into `out`/images and point the links there."
    def one(m):
        if re.match(r'[a-z]+:', m[2]): return m[0]
        target = next((t for t in ((src_dir/m[2]).resolve(), (ROOT/m[2]).resolve()) if t.is_file()), None)   # (index.ipynb is also the README, whose links start at the top)
        if target is None: return m[0]
        (out/'images').mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, out/'images'/target.name)
        return f"![{m[1]}]({'../' * (len(page.relative_to(out).parts) - 1)}images/{target.name})"
    return re.sub(r'!\[([^\]]*)\]\(([^)\s]+)\)', one, text)

# Code's operators, comments and numbers at 4.5:1 or more on the code cells' background (JupyterLab's own are 3.4 to 4.4)
CODE_COLOURS = {'light': ':root { --jp-mirror-editor-operator-color: #8a1ad6; --jp-mirror-editor-comment-color: #367070; '
                         '--jp-mirror-editor-number-color: #007300; }\n',
                'dark': ':root { --jp-mirror-editor-operator-color: #c27eff; --jp-mirror-editor-comment-color: #5fb3b3; }\n'}

def dark_theme() -> str:
    "JupyterLab's dark theme (the lab template's own), applied where the reader's system prefers dark: pages follow it."
    from jupyter_core.paths import jupyter_path
    css = next(Path(d)/'theme-dark.css' for d in jupyter_path('nbconvert', 'templates', 'lab', 'static')
               if (Path(d)/'theme-dark.css').is_file())
    return ('<meta name="color-scheme" content="light dark"><style>' + CODE_COLOURS['light']
            + '@media (prefers-color-scheme: dark) {\n' + css.read_text() + CODE_COLOURS['dark']
            + '\n}\nnav.lnb-docs a { color: var(--jp-content-link-color); }</style>')

# the page says which theme it is in as JupyterLab does (what nbconvert wrote there is the light one), and follows changes
FOLLOW_SCHEME = ("<script>(() => { const q = matchMedia('(prefers-color-scheme: dark)'), b = document.body;"
                 " const set = () => { b.dataset.jpThemeLight = String(!q.matches);"
                 " b.dataset.jpThemeName = q.matches ? 'JupyterLab Dark' : 'JupyterLab Light'; };"
                 " set(); q.addEventListener('change', set); })();</script>")

def nav(current:Path, all_pages:list[tuple[Path, str]], out:Path) -> str:
    "The navigation bar for the page at `current` (a path under `out`)."
    links = []
    for page, name in all_pages:
        rel = Path('../' * (len(current.relative_to(out).parts) - 1) + str(page.relative_to(out)))
        style = ' style="font-weight:bold"' if page == current else ''
        links.append(f'<a href="{html.escape(str(rel))}"{style}>{html.escape(name)}</a>')
    return ('<nav class="lnb-docs" style="font-family:sans-serif;font-size:13px;padding:8px 16px;line-height:1.9;'
            'border-bottom:1px solid var(--jp-border-color2);color:var(--jp-content-font-color1)">'
            + ' · '.join(links) + '</nav>')

MIME = 'application/vnd.lottery-nb.explorer+json'

def embed_explorers(nb) -> bool:
    "Turn each explorer output (the state `Explorer` saves beside its widget) into HTML that draws it without a kernel; whether there were any."
    from lottery_nb.widgets import embed
    found = False
    for c in nb.cells:
        for o in c.get('outputs', []):
            if MIME in o.get('data', {}):
                o['data'] = {'text/html': embed(o['data'][MIME])}
                found = True
    return found

def drop_empty_outputs(nb):
    "Leave out outputs that carry nothing to show (an object that displayed itself leaves an empty result), so no page shows a bare Out[ ]."
    for c in nb.cells:
        if c.cell_type == 'code':
            c.outputs = [o for o in c.outputs if not (o.output_type in ('execute_result', 'display_data') and not o.get('data'))]

def write_assets(out:Path):
    "plotly.js and the explorer's code, once for the whole site."
    from plotly.offline import get_plotlyjs
    from lottery_nb.widgets import explorer_js
    (out/'assets').mkdir(parents=True, exist_ok=True)
    (out/'assets'/'plotly.min.js').write_text(get_plotlyjs())
    (out/'assets'/'lottery_explorer.js').write_text(explorer_js(classic=True))

def scripts(page:Path, out:Path) -> str:
    up = '../' * (len(page.relative_to(out).parts) - 1)
    return (f'<script src="{up}assets/plotly.min.js"></script><script src="{up}assets/lottery_explorer.js"></script>'
            '<script>LotteryExplorer.boot();</script>')

def build(nbs:Path=ROOT/'nbs', out:Path=ROOT/'_docs') -> list[Path]:
    "Convert every notebook of `nbs` to a page under `out` (replaced whole); returns the pages written."
    srcs = pages(nbs)
    if not srcs: raise SystemExit(f"build_docs: no notebooks in {nbs}")
    notebooks = {p: nbformat.read(p, as_version=4) for p in srcs}   # read them all first: a bad notebook fails before anything is written
    tmp = out.with_name(out.name + '.tmp')
    shutil.rmtree(tmp, ignore_errors=True)
    targets = {p: tmp/p.relative_to(nbs).with_suffix('.html') for p in srcs}
    names = [(targets[p], ('Tutorials: ' if p.parent.name == 'tutorials' and p.name.startswith('00') else '') + title(nb))
             for p, nb in notebooks.items()]
    exporter = HTMLExporter(template_name='lab', mathjax_url='', require_js_url='')   # nothing from a CDN: the docs work offline
    write_assets(tmp)
    dark = dark_theme()
    for p, nb in notebooks.items():
        for c in nb.cells:
            if c.cell_type == 'markdown': c.source = relink(copy_images(c.source, p.parent, targets[p], tmp))
        drop_empty_outputs(nb)
        explorers = embed_explorers(nb)
        body, _ = exporter.from_notebook_node(nb, resources={'metadata': {'name': title(nb)}})
        body = re.sub(r'(<body[^>]*>)', lambda m: m[1] + FOLLOW_SCHEME + nav(targets[p], names, tmp), body, count=1)
        body = body.replace('</head>', dark + '\n</head>', 1)
        body = re.sub(r'<script[^>]*\ssrc=""[^>]*>\s*</script>', '', body)   # the emptied CDN links
        if explorers: body = body.replace('</body>', scripts(targets[p], tmp) + '\n</body>', 1)
        targets[p].parent.mkdir(parents=True, exist_ok=True)
        targets[p].write_text(body)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return [out/t.relative_to(tmp) for t in targets.values()]

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--nbs', type=Path, default=ROOT/'nbs', help='the notebooks (default: nbs/)')
    ap.add_argument('--out', type=Path, default=ROOT/'_docs', help='the output folder (default: _docs/)')
    a = ap.parse_args()
    written = build(a.nbs, a.out)
    print(f"wrote {len(written)} pages to {a.out}/ (open {a.out/'index.html'})", file=sys.stderr)
