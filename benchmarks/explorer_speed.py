"""How fast the explorer is where people use it: in JupyterLab, in Chromium, from a key press to every view redrawn.

    python benchmarks/explorer_speed.py              # the bundled LeNet study and an 11-level ResNet-20 study, alone and under load
    python benchmarks/explorer_speed.py --quick      # the LeNet study alone

For each study: the cold `explore()` (a fresh kernel: imports, reading the study, computing its view) and Shift+Enter to every
view drawn; then 20 level changes (arrow keys on the slider) and 10 layer changes (arrow keys on the layer list), 0.3 s apart (a person's pace),
each timed in the page from the key press to the painted frame after every view shows the new level and layer; and the first
three steps right after the explorer appears, before its idle time has drawn the neighbouring levels ahead. "Under load" repeats the
changes while a LeNet-300-100 study trains in another process (a workshop laptop running a tutorial beside the explorer).
Also the size of `lottery-nb export-html`'s file for each study. Prints median and worst; writes benchmarks/results/explorer_speed.json.
"""
import argparse, contextlib, json, os, platform, statistics, sys, tempfile, time
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))   # run as a script from anywhere: the project's tools, as `tools.lab`
from tools.lab import jupyterlab, browser, write_notebook, open_notebook, run_cell, wait_views, key_latency, serialization_warnings, training_load

def resnet_study(out:Path) -> Path:
    "An 11-level ResNet-20 IMP study with ticket, re-init and random variants (tiny training: the views' size is what counts)."
    from lottery_nb.config import ImpConfig
    from lottery_nb.runs import ImpRun
    if not (out/'level_10'/'random'/'metrics.json').exists():
        cfg = ImpConfig(dataset='fashion_mnist', model='resnet20', rounds=10, fraction=0.2, controls=('reinit', 'random'),
                        train=dict(epochs=1, n_train=256, n_test=128, batch_size=128))
        t0 = time.time(); ImpRun(out, cfg, device='cpu', progress=False).run()
        print(f"made {out} in {time.time() - t0:.0f} s", flush=True)
    return out

def stats(xs): return dict(median=round(statistics.median(xs), 1), worst=round(max(xs), 1), n=len(xs))

def changes(page, levels:list[int], layers:list[str], gap:float=0.3) -> tuple[list, list]:
    "20 level changes over the whole range and back, then 10 layer changes, `gap` seconds apart (a person's pace); the milliseconds of each."
    lv, ly, cur = [], [], page.evaluate("() => +document.querySelector('.lnb').dataset.level")
    layer = page.evaluate("() => document.querySelector('.lnb').dataset.layer")
    for k in range(20):
        up = (k // (len(levels) - 1)) % 2 == 0 if len(levels) > 2 else k % 2 == 0
        nxt = min(cur + 1, levels[-1]) if up else max(cur - 1, 0)
        if nxt == cur: nxt = cur - 1 if up else cur + 1
        time.sleep(gap)
        lv.append(key_latency(page, 'ArrowRight' if nxt > cur else 'ArrowLeft', nxt, layer)); cur = nxt
    i = layers.index(layer)
    for k in range(10):
        j = i + 1 if i + 1 < len(layers) else i - 1
        time.sleep(gap)
        ly.append(key_latency(page, 'ArrowDown' if j > i else 'ArrowUp', cur, layers[j], target='.lnb-layerbar select')); i = j
    return lv, ly

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='the LeNet study alone, no load')
    ap.add_argument('--work', default='runs/explorer-bench', help='where the ResNet-20 study is made (kept for next time)')
    a = ap.parse_args(argv)
    from lottery_nb.runs import open_run
    from lottery_nb.widgets import export_html
    studies = {'lenet300 (bundled)': ROOT/'data'/'lenet300-fmnist-imp'}
    if not a.quick: studies['resnet20, 11 levels'] = resnet_study(Path(a.work).resolve()/'resnet20-11')
    res = dict(date=time.strftime('%Y-%m-%d'), machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores", studies={})
    with tempfile.TemporaryDirectory() as tmp, jupyterlab(Path(tmp)) as lab, browser() as b:
        for name, study in studies.items():
            run = open_run(study)
            levels, layers = run.cfg.levels(), list(run.mask(0))
            out = Path(tmp)/'export.html'
            export_html(run, out)
            r = res['studies'][name] = dict(export_html_bytes=out.stat().st_size)
            for loaded in ([False] if a.quick else [False, True]):
                with (training_load() if loaded else contextlib.nullcontext()):
                    lab.stop_kernels()
                    nb = f"bench{'-load' if loaded else ''}.ipynb"
                    write_notebook(Path(tmp)/nb, f"import time; t0 = time.perf_counter()\nfrom lottery_nb.widgets import explore\napp = explore({str(study)!r})\n"
                                                 f"print(f'explore() cold: {{time.perf_counter() - t0:.2f}} s')\napp")
                    page = open_notebook(b, lab, nb)
                    t0 = time.time(); run_cell(page)
                    wait_views(page, 1, layers[0], timeout=180)
                    shown = time.time() - t0
                    cold = float(page.locator('.jp-OutputArea-output pre').first.inner_text().split(':')[1].split()[0])
                    # the first steps right after the explorer appears, before the views beside it are drawn ahead
                    first = [key_latency(page, 'ArrowRight', l, layers[0]) for l in (2, 3, 4)]
                    key_latency(page, 'Home', 0, layers[0]); time.sleep(4)
                    lv, ly = changes(page, levels, layers)
                    key = 'under load' if loaded else 'alone'
                    r[key] = dict(explore_cold_s=cold, shift_enter_to_drawn_s=round(shown, 1), level_change_ms=stats(lv), layer_change_ms=stats(ly),
                                  first_steps_ms=[round(x) for x in first],
                                  console=page.console_seen[:5], serialization_warnings=serialization_warnings(page))
                    print(f"{name} {key}: explore() cold {cold:.2f} s, Shift+Enter to every view drawn {shown:.1f} s; "
                          f"level change {r[key]['level_change_ms']['median']} ms median, {r[key]['level_change_ms']['worst']} ms worst; "
                          f"layer change {r[key]['layer_change_ms']['median']} / {r[key]['layer_change_ms']['worst']} ms; "
                          f"the first three steps, before anything is drawn ahead: {r[key]['first_steps_ms']} ms", flush=True)
                    page.close()
            print(f"{name}: export-html file {r['export_html_bytes'] / 1e6:.2f} MB", flush=True)
    out = ROOT/'benchmarks'/'results'/'explorer_speed.json'
    out.parent.mkdir(exist_ok=True); out.write_text(json.dumps(res, indent=2) + '\n')
    print(f"figures in {out.relative_to(ROOT)}")

if __name__ == '__main__': main()
