"""The explorer where people meet it: JupyterLab in Chromium (playwright), a LeNet-300-100 study training in another process
all the while (a workshop laptop's load), each check repeated REPEAT times (30; $LOTTERY_NB_BROWSER_REPEAT to change).

A view passes only if it shows the selected level (and layer) and its figure has its traces on the page: empty axes fail.
Every test also fails on an error in the browser's console or a serialisation warning from the kernel.
The first test leaves a screenshot in a temporary folder; `LOTTERY_NB_SCREENSHOTS=tests/screenshots` refreshes the README's."""
import os, random, sys, tempfile, time
from pathlib import Path
import pytest
ROOT = Path(__file__).parent.parent
from tools.lab import (jupyterlab, browser, training_load, write_notebook, open_notebook, wait_idle, run_cell, views, wait_views,
                 wait_synced, serialization_warnings, watch_console, contrasts, clipped, reload_and_draw)

REPEAT = int(os.environ.get('LOTTERY_NB_BROWSER_REPEAT', 30))
SHIPPED = ROOT/'data'/'lenet300-fmnist-imp'
SHOTS = Path(os.environ.get('LOTTERY_NB_SCREENSHOTS') or Path(tempfile.gettempdir())/'lottery_nb-screenshots')   # tests/screenshots: the README's
LAYERS = ['fc1.weight', 'fc2.weight', 'fc.weight']
pytestmark = pytest.mark.slow

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    with jupyterlab(tmp_path_factory.mktemp('lab')) as lab: yield lab

@pytest.fixture(scope='module')
def chrome():
    with browser() as b: yield b

@pytest.fixture(scope='module')
def load():
    with training_load() as p: yield p

def clean(page, gave_up:int=0, # reloads on which ipywidgets gave up waiting for a model (see `reload_and_draw`)
         ):
    "Nothing went wrong on the page: no console errors or warnings, no kernel complaint about a widget message."
    seen = [m for m in page.console_seen if 'widget model not found' not in m] if gave_up else page.console_seen
    assert not seen, seen[:5]
    assert not serialization_warnings(page)

def test_every_view_is_drawn_on_every_first_display(lab, chrome, load):
    write_notebook(lab.root/'first.ipynb', f"from lottery_nb.widgets import explore\nexplore({str(SHIPPED)!r})")
    page = open_notebook(chrome, lab, 'first.ipynb')
    try:
        for i in range(REPEAT):
            if i and i % 10 == 0:   # a fresh kernel now and then: a first display after the imports, too
                lab.stop_kernels(); page.reload(); wait_idle(page)
            run_cell(page)
            wait_views(page, 1, 'fc1.weight', timeout=120)
        clean(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator('.lnb').first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS/'explorer.png'))
    finally: page.close()

def test_views_follow_the_slider_after_every_reload(lab, chrome, load):
    write_notebook(lab.root/'reload.ipynb', f"from lottery_nb.widgets import explore\napp = explore({str(SHIPPED)!r}, layer='fc2.weight')\napp")
    page = open_notebook(chrome, lab, 'reload.ipynb')
    try:
        run_cell(page)
        wait_views(page, 1, 'fc2.weight', timeout=120)
        page.keyboard.press('Control+s'); time.sleep(1)   # saved, so the reloaded page has the output to draw again
        level, again = 1, 0
        for i in range(REPEAT):
            again += reload_and_draw(page, level, 'fc2.weight')   # drawn again from the kernel's state, where the slider was left
            page.focus('.lnb input[type=range]')
            level = level + 1 if level < 5 else 0
            page.keyboard.press('ArrowRight' if level else 'Home')
            wait_views(page, level, 'fc2.weight', timeout=30)
        assert again <= max(1, REPEAT // 10), f'ipywidgets gave up on {again} of {REPEAT} reloads'
        clean(page, again)
    finally: page.close()

def test_play_and_rapid_keys_leave_every_view_on_the_selected_level_and_layer(lab, chrome, load):
    write_notebook(lab.root/'play.ipynb', f"from lottery_nb.widgets import explore\napp = explore({str(SHIPPED)!r})\napp.play_ms = 150\napp",
                   "print(app.level, app.layer)")
    page = open_notebook(chrome, lab, 'play.ipynb')
    rng = random.Random(0)
    try:
        run_cell(page)
        wait_views(page, 1, 'fc1.weight', timeout=120)
        level, layer = 1, 0
        for i in range(REPEAT):
            page.focus('.lnb input[type=range]'); page.keyboard.press('Home')
            page.locator('.lnb-bar button').first.click()            # Play, from level 0 to the end
            page.wait_for_function("document.querySelector('.lnb-bar button').textContent.includes('Play') && document.querySelector('.lnb').dataset.level === '5'", timeout=60_000)
            wait_views(page, 5, LAYERS[layer], timeout=30)
            level = 5
            page.focus('.lnb input[type=range]')
            for _ in range(rng.randint(2, 9)):                       # a burst of arrow keys, no waiting between them
                k = rng.choice(['ArrowLeft', 'ArrowLeft', 'ArrowRight'])
                level = max(0, min(5, level + (1 if k == 'ArrowRight' else -1)))
                page.keyboard.press(k, delay=0)
            page.focus('.lnb-layerbar select')
            for _ in range(rng.randint(0, 3)):
                k = rng.choice(['ArrowDown', 'ArrowUp'])
                layer = max(0, min(2, layer + (1 if k == 'ArrowDown' else -1)))
                page.keyboard.press(k, delay=0)
            wait_views(page, level, LAYERS[layer], timeout=30)
        run_cell(page, 1)   # the kernel's traits followed the browser
        page.wait_for_function(f"document.body.innerText.includes('{level} {LAYERS[layer]}')", timeout=30_000)
        clean(page)
    finally: page.close()

def test_watch_fills_in_as_it_trains_with_no_serialisation_warning(lab, chrome, tmp_path):
    write_notebook(lab.root/'watch.ipynb', "from lottery_nb.runs import ImpRun, ImpConfig\nfrom lottery_nb.widgets import watch\n"
                   f"run = ImpRun({str(tmp_path/'live')!r}, ImpConfig(rounds=2, fraction=0.5, train=dict(epochs=2, n_train=2000, n_test=500)), device='cpu', progress=False)\n"
                   "w = watch(run)\nw")
    page = open_notebook(chrome, lab, 'watch.ipynb')
    try:
        run_cell(page)
        page.wait_for_selector('.lnb [data-view="accuracy"][data-state]', timeout=120_000)
        assert views(page, 1) == 'ok', 'a study with nothing trained yet is drawn, every view saying what it waits for'
        page.get_by_role('button', name='Train').click()
        page.wait_for_selector('.lnb progress', timeout=60_000)
        page.wait_for_function("document.querySelector('.lnb-train').textContent.includes('finished')", timeout=300_000)
        wait_views(page, 1, 'fc1.weight', timeout=30)
        states = page.eval_on_selector_all('.lnb [data-view]', 'es => es.map(e => e.dataset.state)')
        assert states == ['drawn'] * 5, states
        clean(page)
    finally: page.close()

GROUP = ROOT/'data'/'lenet300-fmnist-lth'                        # three seeds of the LTH paper's LeNet protocol
SWEPT = ROOT/'data'/'resnet20w05-fmnist-rewind-k'/'k0000'         # a study with an instability sweep

# The group's accuracy and curve views draw a filled ± 1 sd band under each variant's line; the swept study has a stability view.
BANDS_JS = """() => { const [g, s] = document.querySelectorAll('.lnb'), out = [];
  for (const v of ['accuracy', 'curves']) { const p = g.querySelector(`[data-view="${v}"] .lnb-plot.lnb-on`);
    const bands = p && p.data ? p.data.filter(t => t.fill === 'toself').length : 0;
    if (!bands || !p.querySelectorAll('.scatterlayer .trace path.js-fill').length) out.push(`${v}: no band drawn`); }
  const st = s.querySelector('[data-view="stability"]');
  if (!st || st.dataset.state !== 'drawn') out.push(`stability: ${st ? st.dataset.state : 'no view'}`);
  if (g.querySelector('[data-view="stability"]')) out.push('the group has a stability view it has no sweep for');
  return out.join('; ') || 'ok'; }"""

def test_a_group_of_seeds_draws_bands_and_a_swept_study_its_stability_after_every_reload(lab, chrome, load):
    write_notebook(lab.root/'bands.ipynb', f"from lottery_nb.widgets import explore\nexplore({str(GROUP)!r})", f"explore({str(SWEPT)!r})")
    page = open_notebook(chrome, lab, 'bands.ipynb')
    try:
        run_cell(page, 0); run_cell(page, 1)
        wait_views(page, 1, None, n=2, timeout=120)
        page.keyboard.press('Control+s'); time.sleep(1)
        again = 0
        for i in range(REPEAT):
            again += reload_and_draw(page, 1, None, n=2)
            assert page.evaluate(BANDS_JS) == 'ok'
            page.locator('.lnb input[type=range]').first.focus()
            page.keyboard.press('ArrowRight')
            page.wait_for_function("document.querySelector('.lnb').dataset.level === '2'", timeout=30_000)
            assert page.evaluate(BANDS_JS) == 'ok'
            page.keyboard.press('ArrowLeft')   # back where the saved notebook has it
            wait_views(page, 1, None, n=2, timeout=30)
            wait_synced(page)                  # and the kernel has it too: a reload draws what the kernel holds
        assert again <= max(1, REPEAT // 10), f'ipywidgets gave up on {again} of {REPEAT} reloads'
        clean(page, again)
    finally: page.close()

def test_a_sweep_measured_from_the_explorer_adds_its_view_live(lab, chrome, tmp_path):
    write_notebook(lab.root/'sweep.ipynb', "from lottery_nb.runs import ImpRun, ImpConfig\nfrom lottery_nb.widgets import explore\n"
                   "from lottery_nb.stability import StabilityConfig\n"
                   f"run = ImpRun({str(tmp_path/'sw')!r}, ImpConfig(rounds=1, train=dict(epochs=1, n_train=1000, n_test=300)), device='cpu', progress=False).run()\n"
                   "app = explore(run)\napp", "app.measure_stability(StabilityConfig(ks=(0, 3, 6), points=3));")
    page = open_notebook(chrome, lab, 'sweep.ipynb')
    try:
        run_cell(page, 0)
        wait_views(page, 1, 'fc1.weight', timeout=180)
        assert page.locator('.lnb [data-view="stability"]').count() == 0, 'no sweep yet: no stability view'
        run_cell(page, 1)
        page.wait_for_selector('.lnb [data-view="stability"][data-state="drawn"]', timeout=120_000)   # with the first k
        page.wait_for_function("document.querySelector('.lnb-train').textContent.includes('finished')", timeout=300_000)
        page.wait_for_function("+document.querySelector('.lnb [data-view=stability]').dataset.traces === 4", timeout=30_000)   # 3 paths + the barrier
        wait_views(page, 1, 'fc1.weight', timeout=30)
        clean(page)
    finally: page.close()

@pytest.fixture(scope='module')
def pages(tmp_path_factory):
    "The HTML docs of the notebooks, and a study exported with `lottery-nb export-html`."
    import subprocess
    out = tmp_path_factory.mktemp('site')
    subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--out', str(out/'_docs')], check=True, capture_output=True)
    subprocess.run(['lottery-nb', 'export-html', str(SHIPPED), str(out/'lenet.html')], check=True, capture_output=True)
    for name, study in STUDIES.items():
        subprocess.run(['lottery-nb', 'export-html', str(study), str(out/f'{name}.html')], check=True, capture_output=True)
    return out

@pytest.mark.parametrize('name', ['_docs/07_widgets.html', 'lenet.html'])
def test_pages_without_a_kernel_draw_and_follow_the_keyboard(chrome, pages, load, name):
    page = chrome.new_page(viewport={'width': 1366, 'height': 768})
    page.console_seen = watch_console(page)
    try:
        for i in range(REPEAT):
            page.goto((pages/name).as_uri())
            page.wait_for_selector('.lnb [data-view][data-state]', timeout=60_000)
            n = page.evaluate("document.querySelectorAll('.lnb').length")
            assert n >= 1
            first = page.evaluate("[...document.querySelectorAll('.lnb')].map(e => [+e.dataset.level, e.dataset.layer])")
            for k, (level, layer) in enumerate(first):   # every explorer on the page, each at its own saved level and layer
                sel = f'.lnb >> nth={k}'
                page.wait_for_function("([k, l]) => { const r = document.querySelectorAll('.lnb')[k]; return r && [...r.querySelectorAll('[data-view]')].every(f => +f.dataset.level === l && f.dataset.state); }", arg=[k, level], timeout=30_000)
            root = page.locator('.lnb').first
            level, layer = first[0]
            target = (level + 1) % 6
            page.locator('.lnb input[type=range]').first.focus()
            page.keyboard.press('ArrowRight' if target else 'Home')
            page.wait_for_function("l => [...document.querySelector('.lnb').querySelectorAll('[data-view]')].every(f => +f.dataset.level === l)", arg=target, timeout=30_000)
            check = page.evaluate("""() => { const r = document.querySelector('.lnb');
                return [...r.querySelectorAll('[data-view]')].map(f => { const p = f.querySelector('.lnb-plot.lnb-on');
                  return f.dataset.state === 'why' ? 'why' : (p && p.data && p.querySelectorAll('.cartesianlayer .trace, .hm').length ? 'drawn' : 'EMPTY'); }); }""")
            assert 'EMPTY' not in check, check
        assert not page.console_seen, page.console_seen[:5]
    finally: page.close()

# a study of each kind the explorer draws: LeNet with its controls, a group of seeds, a ResNet-20, a swept study's stability
STUDIES = {'lth-group': ROOT/'data'/'lenet300-fmnist-lth', 'resnet20': ROOT/'data'/'resnet20-fmnist-rewind1ep',
           'k-sweep': ROOT/'data'/'resnet20w05-fmnist-rewind-k'/'k0000'}
DRAWN = ("() => { const r = document.querySelector('.lnb'); const f = r && r.querySelectorAll('[data-view]');"
         " return f && f.length && [...f].every(x => x.dataset.state); }")

@pytest.mark.parametrize('scheme', ['light', 'dark'])
@pytest.mark.parametrize('name', ['lenet', *STUDIES])
def test_every_text_of_an_exported_page_is_readable_and_whole_in_the_readers_light_or_dark(chrome, pages, name, scheme):
    page = chrome.new_page(viewport={'width': 1366, 'height': 768}, color_scheme=scheme)
    page.console_seen = watch_console(page)
    try:
        page.goto((pages/f'{name}.html').as_uri())
        page.wait_for_function(DRAWN, timeout=60_000)
        bg = page.evaluate("getComputedStyle(document.querySelector('.lnb')).backgroundColor")
        assert (bg == 'rgb(255, 255, 255)') == (scheme == 'light'), f'{scheme}: the explorer is drawn on {bg}'
        found = contrasts(page)
        assert len(found) > 40, 'the texts of every view were found'
        low = sorted((round(f['ratio'], 2), f['where'], f['text']) for f in found if f['ratio'] < 4.5)
        assert not low, f'{len(low)} of {len(found)} texts under 4.5:1 in {scheme}: {low[:8]}'
        if name == 'k-sweep':   # its stability view: a row of its own, each line and mark named in a legend
            legend = page.evaluate("[...document.querySelectorAll('[data-panel=stability] .lnb-on .legend .traces text')].map(t => t.textContent)")
            assert legend[0] == 'k = 0' and 'barrier, BatchNorm interpolated' in legend and 'level 3 mask' in legend, legend
            widths = page.evaluate("['stability', 'accuracy'].map(k => document.querySelector(`[data-panel=${k}]`).offsetWidth)")
            assert widths[0] > 2.5 * widths[1], widths
        for width in (1366, 800):   # a wide window, and a narrow notebook beside a file browser
            page.set_viewport_size({'width': width, 'height': 768})
            page.wait_for_function(DRAWN, timeout=60_000)
            page.wait_for_timeout(300)   # (the views redrawn at their new size)
            assert not (cut := clipped(page)), f'{width} px: {cut[:8]}'
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS/f'exported-{name}-{scheme}.png'), full_page=True)
        assert not page.console_seen, page.console_seen[:5]
    finally: page.close()

def test_every_text_of_the_explorer_is_readable_in_jupyterlabs_dark_and_light_themes(lab, chrome):
    write_notebook(lab.root/'themes.ipynb', f"from lottery_nb.widgets import explore\nexplore({str(SHIPPED)!r})")
    page = open_notebook(chrome, lab, 'themes.ipynb')
    try:
        run_cell(page)
        wait_views(page, 1, 'fc1.weight', timeout=120)
        for theme, light in (('JupyterLab Dark', 'false'), ('JupyterLab Light', 'true')):   # switched as a reader would
            page.evaluate(f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: {theme!r}}})")
            page.wait_for_function("l => document.body.dataset.jpThemeLight === l", arg=light, timeout=60_000)
            # the plots are drawn again in the theme's colours: their axis labels take its text colour
            page.wait_for_function("""() => { const r = document.querySelector('.lnb'), t = r && r.querySelector('.lnb-plot.lnb-on .xtick text');
                const rgb = s => (s.match(/[\\d.]+/g) || []).slice(0, 3).join();
                return t && rgb(getComputedStyle(t).fill) === rgb(getComputedStyle(r).color); }""", timeout=60_000)
            wait_views(page, 1, 'fc1.weight', timeout=60)
            found = contrasts(page)
            assert len(found) > 40, 'the texts of every view were found'
            low = sorted((round(f['ratio'], 2), f['where'], f['text']) for f in found if f['ratio'] < 4.5)
            assert not low, f'{len(low)} of {len(found)} texts under 4.5:1 in {theme}: {low[:8]}'
            assert not (cut := clipped(page)), cut[:8]   # every note and heading whole, in the notebook's width
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.locator('.lnb').first.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS/f"jupyterlab-{theme.split()[-1].lower()}.png"))
        clean(page)
    finally: page.close()

def test_a_saved_notebook_reopened_without_its_kernel_shows_its_explorer_or_says_to_run_the_cell(lab, chrome):
    write_notebook(lab.root/'saved.ipynb', f"from lottery_nb.widgets import explore\nexplore({str(SHIPPED)!r})")
    page = open_notebook(chrome, lab, 'saved.ipynb')
    try:
        run_cell(page)
        wait_views(page, 1, 'fc1.weight', timeout=120)
        assert not page.is_visible('.lnb-saved-hint'), 'no hint beside a drawn explorer'
        page.wait_for_selector('.lnb .lnb-go', timeout=30_000)   # its kernel answered: "Train it now" is offered
        page.locator('.lnb input[type=range]').first.focus(); page.keyboard.press('ArrowRight')
        wait_views(page, 2, 'fc1.weight')
        page.evaluate('document.activeElement.blur()')   # (a widget keeps the notebook's shortcuts from its own keys)
        page.keyboard.press('Control+s'); time.sleep(1)
        lab.stop_kernels()   # its kernel gone: restarted, or the notebook opened another day
        page.reload(); wait_idle(page)
        # as installed, JupyterLab keeps the widget's state in the notebook: the explorer comes back where it was left,
        # drawn in the browser alone, and follows the slider
        wait_views(page, 2, 'fc1.weight', timeout=60)
        assert not page.is_visible('.lnb-saved-hint')
        # no kernel answers it: instead of training it cannot do, it says how to bring the kernel back
        assert 'run this cell' in page.inner_text('.lnb-nokernel', timeout=30_000)
        assert not page.is_visible('.lnb .lnb-go')
        page.locator('.lnb input[type=range]').first.focus(); page.keyboard.press('ArrowRight')
        wait_views(page, 3, 'fc1.weight')
        assert page.is_visible('.lnb-nokernel') and not page.is_visible('.lnb .lnb-go')
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator('.lnb').first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS/'reopened.png'))
        clean(page)   # not one console error
        # with "Save Widget State Automatically" turned off, the saved output cannot be drawn: one line says what to do
        lab.save_widget_state(False); lab.stop_kernels()
        page.reload(); wait_idle(page)
        page.wait_for_selector('.lnb-saved-hint', state='visible', timeout=60_000)
        assert 'run this cell' in page.inner_text('.lnb-saved-hint')
        page.screenshot(path=str(SHOTS/'reopened-hint.png'))
        run_cell(page)
        wait_views(page, 1, 'fc1.weight', timeout=120)
        assert not page.is_visible('.lnb-saved-hint'), 'drawn again: the hint is gone'
        # ipywidgets itself logs the model it could not find; nothing else
        assert not [m for m in page.console_seen if 'model not found' not in m], page.console_seen[:5]
    finally:
        lab.save_widget_state(None)
        page.close()

def test_watch_sweep_reads_whole_in_jupyterlabs_dark_and_light_themes(lab, chrome, tmp_path):
    spec = "dict(base=dict(rounds=1, train=dict(epochs=1, n_train=600, n_test=300, augment=False)), grid={'seed': [0, 1]})"
    write_notebook(lab.root/'watch.ipynb', "from lottery_nb.sweep import Sweep\nfrom lottery_nb.widgets import watch_sweep\n"
                   f"sw = Sweep({str(tmp_path/'sweep')!r}, {spec})\nsw.wait(sw.submit('debug'), every=0.1, say=lambda s: None)\n"
                   "watch_sweep(sw, every=1)")
    page = open_notebook(chrome, lab, 'watch.ipynb')
    try:
        run_cell(page)
        page.wait_for_function("(document.querySelector('.lnb-sweep') || {}).innerText?.includes('2 of 2 studies done')", timeout=240_000)
        head = page.evaluate("[...document.querySelectorAll('.lnb-sweep b')].map(b => b.textContent)")
        assert all(h in head for h in ('study', 'state', 'units done', 'level', 'job', 'heartbeat')), head
        for theme, light in (('JupyterLab Dark', 'false'), ('JupyterLab Light', 'true')):
            page.evaluate(f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: {theme!r}}})")
            page.wait_for_function("l => document.body.dataset.jpThemeLight === l", arg=light, timeout=60_000)
            page.wait_for_timeout(1000)   # (the theme's styles applied)
            found = contrasts(page, '.lnb-sweep')
            assert len(found) >= 6 + 2 * 6, 'the header and both rows'
            low = sorted((round(f['ratio'], 2), f['text']) for f in found if f['ratio'] < 4.5)
            assert not low, f'{len(low)} of {len(found)} texts under 4.5:1 in {theme}: {low[:8]}'
            assert not (cut := clipped(page, '.lnb-sweep')), cut[:8]   # the buttons' words whole
            page.screenshot(path=str(SHOTS/f"watch-sweep-{theme.split()[-1].lower()}.png"))
        clean(page)
    finally: page.close()
