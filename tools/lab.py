"""JupyterLab in a real browser, for the browser tests and benchmarks: a server on a loopback port, Debian's chromium
driven by playwright, notebooks run cell by cell, and the explorer read back from the page.

    with jupyterlab(root) as lab, browser() as b:
        page = open_notebook(b, lab, 'explore.ipynb')
        run_cell(page)
        wait_views(page, level=1, layer='fc1.weight')
"""
from __future__ import annotations
import contextlib, json, os, secrets, socket, subprocess, sys, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = '/usr/bin/chromium'
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def write_notebook(path:Path, *cells:str):
    "A notebook of code cells."
    nb = dict(cells=[dict(cell_type='code', metadata={}, source=c, outputs=[], execution_count=None) for c in cells],
              metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python')), nbformat=4, nbformat_minor=5)
    path.write_text(json.dumps(nb))

class Lab:
    def __init__(self, url, token, root, log): self.url, self.token, self.root, self.log = url, token, root, log
    def api(self, path, method='GET'):
        req = urllib.request.Request(f'{self.url}{path}?token={self.token}', method=method)
        with urllib.request.urlopen(req, timeout=10) as r: return json.loads(r.read() or b'null')
    def notebook_url(self, name): return f'{self.url}/lab/tree/{name}?reset&token={self.token}'   # reset: only this notebook open
    def save_widget_state(self, on:bool|None):
        ("Turn JupyterLab's 'Save Widget State Automatically' on or off as a user does in the Settings menu, or back to the "
         "installed default (None); pages read it when they load.")
        f = self.root/'settings'/'@jupyter-widgets'/'jupyterlab-manager'/'plugin.jupyterlab-settings'
        if on is None: f.unlink(missing_ok=True); return
        f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps({'saveState': on}))
    def stop_kernels(self):
        for s in self.api('/api/sessions'): self.api(f"/api/sessions/{s['id']}", 'DELETE')

@contextlib.contextmanager
def jupyterlab(root:Path):
    "A JupyterLab server for `root`, its kernels importing this checkout's lottery_nb; stopped (by its process id) on exit."
    root = Path(root); (root/'cfg'/'labconfig').mkdir(parents=True, exist_ok=True)
    # no "get notified about news" pop-up over the page
    # and the app reachable from the page (window.jupyterapp), so a test can switch the theme as a reader would
    (root/'cfg'/'labconfig'/'page_config.json').write_text(json.dumps({'disabledExtensions': {'@jupyterlab/apputils-extension:announcements': True},
                                                                       'exposeAppInBrowser': True}))
    # JupyterLab's settings as an installed lottery_nb leaves them (its overrides.d file: widget state saved with notebooks)
    (root/'appsettings'/'overrides.d').mkdir(parents=True, exist_ok=True)
    (root/'appsettings'/'overrides.d'/'lottery_nb.json').write_bytes((ROOT/'lottery_nb'/'jupyterlab'/'lottery_nb.json').read_bytes())
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]),
           'JUPYTER_CONFIG_DIR': str(root/'cfg'), 'JUPYTER_RUNTIME_DIR': str(root/'rt'),
           'JUPYTERLAB_SETTINGS_DIR': str(root/'settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(root/'workspaces')}   # its own, not the user's
    log = root/'lab.log'
    proc = subprocess.Popen([sys.executable, '-m', 'jupyter', 'lab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}', '--allow-root', '--LabApp.news_url=',
                             '--LabServerApp.extra_labextensions_path=[]',
                             f"--LabServerApp.app_settings_dir={root/'appsettings'}"], stdout=open(log, 'w'), stderr=subprocess.STDOUT, env=env)
    lab = Lab(f'http://127.0.0.1:{port}', token, root, log)
    try:
        for _ in range(240):
            try: lab.api('/api/status'); break
            except Exception: time.sleep(0.5)
        else: raise RuntimeError('JupyterLab did not start: ' + log.read_text()[-2000:])
        yield lab
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()

@contextlib.contextmanager
def browser():
    "Debian's chromium, headless, driven by playwright."
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists(): raise RuntimeError(f'{CHROMIUM} missing: apt-get install chromium')
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try: yield b
        finally: b.close()

def watch_console(page) -> list[str]:
    "Collect the page's console errors and warnings, and uncaught exceptions, into the returned list."
    seen = []
    page.on('console', lambda m: seen.append(f'{m.type}: {m.text}') if m.type in ('error', 'warning') else None)
    page.on('pageerror', lambda e: seen.append(f'pageerror: {e}'))
    return seen

def open_notebook(b, lab:Lab, name:str, viewport=(1366, 768)):
    "A new page with the notebook `name` open and its kernel idle."
    page = b.new_page(viewport={'width': viewport[0], 'height': viewport[1]})
    page.console_seen = watch_console(page)
    page.goto(lab.notebook_url(name), timeout=180_000)
    wait_idle(page)
    return page

def wait_idle(page, timeout=180_000):
    page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=timeout)
    page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=timeout)

def run_cell(page, index:int=0):
    "Run one cell with Shift+Enter, as a user does."
    page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell .jp-InputArea-editor').nth(index).click()
    page.keyboard.press('Shift+Enter')

# One check of the whole explorer, run in the page: every view shows `level` (and `layer` where it has one), and every
# figure that says it is drawn has its traces on the page (not empty axes).
VIEWS_JS = """([level, layer, n]) => {
  const roots = document.querySelectorAll('.lnb');
  if (roots.length !== n) return `${roots.length} explorers on the page, not ${n}`;
  for (const root of roots) {
    if (+root.dataset.level !== level) return `explorer at level ${root.dataset.level}, not ${level}`;
    if (layer && root.dataset.layer !== layer) return `explorer on layer ${root.dataset.layer}, not ${layer}`;
    const views = root.querySelectorAll('[data-view]');
    if (!views.length || views.length !== +root.dataset.views) return `${views.length} views of ${root.dataset.views}`;
    for (const f of views) {
      const v = f.dataset.view;
      if (+f.dataset.level !== level) return `${v} shows level ${f.dataset.level}`;
      if (['weights', 'mask'].includes(v) && layer && f.dataset.layer !== layer) return `${v} shows layer ${f.dataset.layer}`;
      const st = f.dataset.state;
      if (st === 'why') { if (!f.querySelector('.lnb-why').textContent.trim()) return `${v}: an empty explanation`; continue; }
      const plot = f.querySelector('.lnb-plot.lnb-on');
      if (!plot) return `${v}: no plot shown`;
      if (!plot.data || plot.data.length !== +f.dataset.traces) return `${v}: ${plot.data ? plot.data.length : 'no'} traces, ${f.dataset.traces} drawn`;
      const drawn = plot.querySelectorAll('.cartesianlayer .trace, .hm, .heatmaplayer image').length;
      if (st === 'drawn' && !drawn) return `${v}: empty axes`;
    }
  }
  return 'ok';
}"""

def views(page, level:int, layer:str|None=None, n:int=1) -> str:
    "'ok' if the page's explorers all show `level` and `layer` in every view, else what is wrong."
    return page.evaluate(VIEWS_JS, [level, layer, n])

def wait_views(page, level:int, layer:str|None=None, n:int=1, timeout:float=60):
    "Wait until `views(...)` is 'ok'; raise with the last answer if it never is."
    t0, last = time.time(), None
    while time.time() - t0 < timeout:
        last = views(page, level, layer, n)
        if last == 'ok': return time.time() - t0
        time.sleep(0.05)
    raise AssertionError(f'the explorer did not settle on level {level}, layer {layer}: {last}')

SYNCED_JS = "() => [...document.querySelectorAll('.lnb')].every(r => r.dataset.sent === r.dataset.synced)"

def wait_synced(page, timeout:float=30):
    "Wait until the kernel has applied every change made on the page (level, layer, log scale) to its explorers."
    page.wait_for_function(SYNCED_JS, timeout=timeout*1000)

def serialization_warnings(page) -> list[str]:
    "Lines of the notebook's outputs where the kernel complained about a message (NaN in a widget, say)."
    text = page.locator('.jp-Notebook').inner_text()
    return [l for l in text.splitlines() if 'serialization failed' in l.lower() or 'not json compliant' in l.lower()]

def arm_clock(page):
    "Start the clock at the next key press in the page (in the page's own time)."
    page.evaluate("""() => { window.__lnbT0 = null;
      document.addEventListener('keydown', () => { window.__lnbT0 = performance.now(); }, { capture: true, once: true }); }""")

SETTLED_JS = """([level, layer]) => new Promise(resolve => {
  const root = document.querySelector('.lnb'), t = performance.now();
  const done = () => [...root.querySelectorAll('[data-view]')].every(f => +f.dataset.level === level && (!layer || !['weights', 'mask'].includes(f.dataset.view) || f.dataset.layer === layer));
  const check = () => {
    if (done()) requestAnimationFrame(() => resolve(performance.now() - window.__lnbT0));
    else if (performance.now() - t > 20000) resolve(-1); else requestAnimationFrame(check);
  };
  check();
})"""

def key_latency(page, key:str, level:int, layer:str|None=None, target:str='.lnb input[type=range]') -> float:
    "Milliseconds from pressing `key` on `target` to the painted frame after every view shows `level` (and `layer`)."
    page.focus(target)
    arm_clock(page)
    page.keyboard.press(key)
    ms = page.evaluate(SETTLED_JS, [level, layer])
    if ms < 0: raise AssertionError(f'the views did not reach level {level} {layer or ""}: {views(page, level, layer)}')
    return ms

LOAD = """
import itertools, shutil, tempfile
from lottery_nb.runs import ImpConfig, ImpRun
for i in itertools.count():
    d = tempfile.mkdtemp()
    ImpRun(d + '/s', ImpConfig(rounds=2, fraction=0.5, train=dict(epochs=2, n_train=20000, n_test=2000)), device='cpu', progress=False).run()
    shutil.rmtree(d)
"""

@contextlib.contextmanager
def training_load():
    "A LeNet-300-100 study training in another process, over and over: the load of a workshop laptop running a tutorial."
    proc = subprocess.Popen([sys.executable, '-c', LOAD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])})
    try:
        time.sleep(3)
        if proc.poll() is not None: raise RuntimeError('the training load did not start')
        yield proc
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()

# Every text the reader sees in the explorers of a page, with its colour against what is behind it (WCAG 2 contrast):
# HTML text, and the plots' SVG text on the plot's background. Disabled controls are left out (WCAG exempts them).
CONTRAST_JS = """(sel) => {
  const rgba = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => { const a = top[3]; return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat(1); };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const behind = el => { const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    return layers.reverse().reduce((acc, c) => over(c, acc), [255, 255, 255, 1]); };
  const out = [];
  for (const root of document.querySelectorAll(sel)) {
    const plotBg = behind(root);   // the explorer's own background, which its plots are drawn on
    for (const el of root.querySelectorAll('*')) {
      const svg = el instanceof SVGElement, cs = getComputedStyle(el);
      const own = svg ? (el.tagName === 'text' || el.tagName === 'tspan') && !el.querySelector('tspan') && el.textContent.trim()
                      : [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (!own || cs.visibility !== 'visible' || cs.display === 'none' || el.closest('.lnb-parked, :disabled')) continue;
      const r = el.getBoundingClientRect(); if (!r.width || !r.height) continue;
      let fg = rgba(svg ? cs.fill : cs.color); if (!fg) continue;
      const fo = parseFloat(cs.fillOpacity || 1); if (svg && fo < 1) fg = [fg[0], fg[1], fg[2], fg[3] * fo];
      const bg = svg ? plotBg : behind(el), L1 = lum(over(fg, bg)), L2 = lum(bg);
      out.push({ text: el.textContent.trim().slice(0, 40), ratio: (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05),
                 where: (el.closest('[data-panel]') || {}).dataset?.panel || el.className?.baseVal || el.className || el.tagName });
    }
  }
  return out;
}"""

def contrasts(page, sel:str='.lnb') -> list[dict]:
    "Each text of the page's explorers (or of what `sel` selects): its words, its contrast against what is behind it, and where."
    return page.evaluate(CONTRAST_JS, sel)

# Every text of the page's explorers that is cut: by its own box (scrolled, ellipsis), by a box around it that hides
# what overflows, or (a plot's SVG text) by the edge of its plot.
CLIPPED_JS = """(sel) => {
  const out = [], inside = (r, a) => r.left >= a.left - 1 && r.right <= a.right + 1 && r.top >= a.top - 1 && r.bottom <= a.bottom + 1;
  for (const root of document.querySelectorAll(sel)) {
    for (const el of root.querySelectorAll('*')) {
      const svg = el instanceof SVGElement, cs = getComputedStyle(el);
      const own = svg ? el.tagName === 'text' && el.textContent.trim()
                      : [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (!own || cs.visibility !== 'visible' || cs.display === 'none' || el.closest('.lnb-parked')) continue;
      const r = el.getBoundingClientRect(); if (!r.width || !r.height) continue;
      let why = null;
      if (svg) { const box = el.closest('svg.main-svg'); if (box && !inside(r, box.getBoundingClientRect())) why = 'past its plot'; }
      else if ((el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) && cs.overflow !== 'visible') why = 'in its box';
      else for (let a = el.parentElement; a && !why && a !== root.parentElement; a = a.parentElement) {
        const ac = getComputedStyle(a);
        if ((ac.overflowX !== 'visible' || ac.overflowY !== 'visible') && !inside(r, a.getBoundingClientRect())) why = 'by ' + (a.className || a.tagName);
      }
      if (why) out.push({ text: el.textContent.trim().slice(0, 50), why, where: (el.closest('[data-panel]') || {}).dataset?.panel || '' });
    }
  }
  return out;
}"""

def clipped(page, sel:str='.lnb') -> list[dict]:
    "Each text of the page's explorers (or of what `sel` selects) that is cut, with why and in which view."
    return page.evaluate(CLIPPED_JS, sel)

GAVE_UP_JS = ("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
              ".filter(e => e.textContent.includes('Error displaying widget')).length")

def reload_and_draw(page, level:int, layer:str|None=None, n:int=1, timeout:float=120) -> int:
    ("Reload the page and wait for its `n` explorers on `level`; the reloads it took beyond the first. After a reload "
     "ipywidgets waits 2 s for each widget's model and then gives up for good ('Error displaying widget: model not "
     "found'): a heavily loaded machine can miss that, and another reload draws it. A slow page is not a broken one.")
    for extra in range(3):
        page.reload(); wait_idle(page)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if views(page, level, layer, n) == 'ok': return extra
            if page.evaluate(GAVE_UP_JS): break   # ipywidgets gave up: our code never ran
            time.sleep(0.05)
        else: raise AssertionError(f'the explorer did not settle on level {level}, layer {layer}: {views(page, level, layer, n)}')
    raise AssertionError("ipywidgets gave up on the explorer's model after three reloads in a row")
