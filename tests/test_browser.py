"""The explorer in a real browser: JupyterLab on a loopback port with a token, Debian's chromium driven by playwright.
Runs the notebook, moves the level slider with the keyboard, picks another layer, and checks the page changed."""
import json, os, secrets, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).parent.parent
CHROMIUM = '/usr/bin/chromium'
SHOTS = Path(os.environ.get('LOTTERY_NB_SCREENSHOTS', ROOT/'tests'/'screenshots'))

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def notebook(path:Path, study:Path):
    src = f"from lottery_nb.widgets import explore\napp = explore({str(study)!r})\napp"
    nb = dict(cells=[dict(cell_type='code', metadata={}, source=src, outputs=[], execution_count=None)],
              metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python')), nbformat=4, nbformat_minor=5)
    path.write_text(json.dumps(nb))

@pytest.fixture
def lab(tmp_path):
    if not Path(CHROMIUM).exists(): pytest.fail(f'{CHROMIUM} missing: apt-get install chromium')
    notebook(tmp_path/'explore.ipynb', ROOT/'data'/'lenet300-fmnist-imp')
    port, token = free_port(), secrets.token_hex(16)
    # the kernel imports this checkout's lottery_nb, whatever else is installed
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]), 'JUPYTER_CONFIG_DIR': str(tmp_path/'cfg'), 'JUPYTER_RUNTIME_DIR': str(tmp_path/'rt')}
    proc = subprocess.Popen([sys.executable, '-m', 'jupyter', 'lab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={tmp_path}', '--allow-root',
                             '--LabApp.news_url=', '--LabServerApp.extra_labextensions_path=[]'],
                            stdout=open(tmp_path/'lab.log', 'w'), stderr=subprocess.STDOUT, env=env)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try: urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=1); break
            except Exception: time.sleep(0.5)
        else: pytest.fail('JupyterLab did not start: ' + (tmp_path/'lab.log').read_text()[-2000:])
        yield f'{url}/lab/tree/explore.ipynb?token={token}'
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()

def test_explorer_in_jupyterlab_follows_keyboard_and_layer_choice(lab):
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                                                                   '--disable-component-update', '--disable-sync'])
        try:
            page = browser.new_page(viewport={'width': 1500, 'height': 1300})
            page.goto(lab, timeout=120_000)
            page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=120_000)
            # the kernel must be up before the cell runs: the status bar says "| Idle"
            page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=120_000)
            for attempt in range(3):
                page.locator('.jp-Notebook .jp-Cell .jp-InputArea-editor').first.click()
                page.keyboard.press('Shift+Enter')
                try: page.wait_for_selector('.lottery-explorer .widget-html-content', timeout=60_000); break
                except Exception:
                    if attempt == 2:
                        page.screenshot(path=str(SHOTS/'explorer-failure.png'), full_page=True)
                        raise AssertionError('the explorer did not appear; the page is in ' + str(SHOTS/'explorer-failure.png')
                                             + '\n' + page.locator('.jp-Notebook').inner_text()[-2000:])
            summary = page.locator('.lottery-explorer .widget-html-content').first
            page.wait_for_function("document.querySelectorAll('.lottery-explorer .js-plotly-plot').length >= 6", timeout=120_000)
            before = summary.inner_text()
            assert 'level 1' in before
            handle = page.locator('.lottery-explorer .widget-slider .noUi-handle').first
            handle.focus()
            page.keyboard.press('ArrowRight'); page.keyboard.press('ArrowRight')
            page.wait_for_function("el => el.innerText.includes('level 3')", arg=summary.element_handle(), timeout=30_000)
            after = summary.inner_text()
            assert after != before and '51.3%' in after
            mask_title = lambda: page.eval_on_selector_all('.lottery-explorer .gtitle', 'es => es.map(e => e.textContent)')
            page.wait_for_function("[...document.querySelectorAll('.lottery-explorer .gtitle')].some(e => e.textContent.includes('fc1.weight at level 3'))", timeout=30_000)
            titles_before = mask_title()
            page.locator('.lottery-explorer select').first.select_option('fc2.weight')
            page.wait_for_function("[...document.querySelectorAll('.lottery-explorer .gtitle')].some(e => e.textContent.includes('fc2.weight at level 3'))", timeout=30_000)
            assert mask_title() != titles_before
            page.screenshot(path=str(SHOTS/'explorer.png'), full_page=True)
        finally:
            browser.close()
