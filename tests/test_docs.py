"The HTML docs: one documented command turns every notebook into a page, and the pages link to each other."
import json, re, subprocess, sys
from pathlib import Path
import pytest
ROOT = Path(__file__).parent.parent

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')/'_docs'
    subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--out', str(out)], check=True, capture_output=True)
    return out

def test_every_notebook_becomes_a_page(site):
    nbs = [p for p in list((ROOT/'nbs').glob('*.ipynb')) + list((ROOT/'nbs'/'tutorials').glob('*.ipynb')) if not p.name.startswith('_')]
    for p in nbs:
        page = site/p.relative_to(ROOT/'nbs').with_suffix('.html')
        assert page.exists(), f'no page for {p}'
    assert len(list(site.rglob('*.html'))) == len(nbs)

def test_links_between_pages_resolve(site):
    for page in site.rglob('*.html'):
        for href in re.findall(r'href="([^"#]+)(?:#[^"]*)?"', page.read_text()):
            if re.match(r'[a-z]+:|//', href) or not href.endswith('.html'): continue
            assert (page.parent/href).resolve().exists(), f'{page.relative_to(site)} links to missing {href}'
        assert not re.search(r'href="(?![a-z]+:)[^"]*\.ipynb', page.read_text()), f'{page.name} still links to a notebook'

def test_pages_keep_the_tutorials_outputs(site):
    html = (site/'tutorials'/'01_first_ticket.html').read_text()
    assert 'data:image/png;base64' in html and 'winning ticket' in html and ("Scale('workshop'" in html or "Scale(&#x27;workshop" in html)

def test_the_command_is_documented():
    assert 'python tools/build_docs.py' in (ROOT/'README.md').read_text()
    assert 'python tools/build_docs.py' in (ROOT/'nbs'/'tutorials'/'00_facilitators_guide.ipynb').read_text()

def test_no_notebook_or_page_shows_an_empty_output(site):
    for p in [*(ROOT/'nbs').glob('*.ipynb'), *(ROOT/'nbs'/'tutorials').glob('*.ipynb')]:
        for c in json.loads(p.read_text())['cells']:
            empty = [o for o in c.get('outputs', []) if o['output_type'] in ('execute_result', 'display_data') and not o.get('data')]
            assert not empty, f"{p.name} keeps an empty output under {''.join(c['source'])[:60]!r}"
    import nbformat
    sys.path.insert(0, str(ROOT/'tools'))
    from build_docs import drop_empty_outputs
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('explore(s)', outputs=[
        nbformat.v4.new_output('display_data', data={'text/plain': 'Explorer'}), nbformat.v4.new_output('execute_result', data={})])])
    drop_empty_outputs(nb)   # what an object that displays itself leaves behind when a notebook is saved by execnb
    assert [o.output_type for o in nb.cells[0].outputs] == ['display_data']

def test_explorers_are_drawn_from_the_page_with_nothing_from_the_network(site):
    page = (site/'07_widgets.html').read_text()
    assert page.count('class="lnb-static"') >= 3 and 'assets/plotly.min.js' in page and 'LotteryExplorer.boot()' in page
    assert (site/'assets'/'plotly.min.js').stat().st_size > 3_000_000 and 'globalThis.LotteryExplorer' in (site/'assets'/'lottery_explorer.js').read_text()
    for p in site.rglob('*.html'):
        assert not re.findall(r'<script[^>]+src="(?:https?:)?//', p.read_text()), f'{p.name} loads a script from the network'
        for src in re.findall(r'<img[^>]+src="([^"]+)"', p.read_text()):
            assert src.startswith('data:') or (p.parent/src).resolve().exists(), f'{p.name} shows a missing image {src}'

@pytest.mark.slow
@pytest.mark.parametrize('scheme', ['light', 'dark'])
def test_every_text_of_the_docs_reads_at_4_5_to_1_in_the_readers_light_or_dark(site, scheme):
    "Pages follow the reader's preference (JupyterLab's own dark theme where dark is preferred), code and explorers included."
    from tools.lab import browser, contrasts, watch_console
    with browser() as b:
        page = b.new_page(viewport={'width': 1366, 'height': 768}, color_scheme=scheme)
        seen = watch_console(page)
        for name in ('index', '07_widgets', 'tutorials/01_first_ticket', 'tutorials/04_tickets_vs_controls'):
            page.goto((site/f'{name}.html').as_uri())
            if 'explore(' in (site/f'{name}.html').read_text():   # its explorers drawn from their saved state
                page.wait_for_function("[...document.querySelectorAll('.lnb [data-view]')].every(f => f.dataset.state)", timeout=60_000)
            bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert (bg == 'rgb(255, 255, 255)') == (scheme == 'light'), f'{name} in {scheme} is drawn on {bg}'
            found = contrasts(page, 'body')
            low = sorted((round(f['ratio'], 2), f['where'], f['text']) for f in found if f['ratio'] < 4.5)
            assert len(found) > 100 and not low, f'{name}: {len(low)} of {len(found)} texts under 4.5:1 in {scheme}: {low[:8]}'
        assert not seen, seen[:5]
