"""How fast the explorer follows its selectors: Python time from a level-slider change (and a layer change) to updated
figures, on a ResNet-20 IMP study of 10 levels with ticket, re-init and random-pruning variants.

    python benchmarks/explorer_speed.py            # makes the study once (tiny training: the figures' size is what counts)
    python benchmarks/explorer_speed.py --run DIR  # time an existing study instead

Also times the same slider moves while `watch()` trains a LeNet-300-100 study in its background thread, to show that
training does not block the notebook. Prints median and worst times; writes them to benchmarks/results/explorer_speed.json.
"""
import argparse, statistics, time
from pathlib import Path
from lottery_nb.core import save_json
from lottery_nb.runs import ImpConfig, ImpRun, open_run
from lottery_nb.widgets import Explorer, watch

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--run', default=None)
    p.add_argument('--out', default='runs/explorer-bench-resnet20')
    a = p.parse_args()
    if a.run: run = open_run(a.run, progress=False)
    else:
        cfg = ImpConfig(dataset='fashion_mnist', model='resnet20', rounds=10, fraction=0.2, controls=('reinit', 'random'),
                        train=dict(epochs=1, n_train=256, n_test=128, batch_size=128))
        run = ImpRun(a.out, cfg, device='cpu', progress=False)
        t0 = time.time(); run.run(); print(f"study made in {time.time() - t0:.0f} s")
    app = Explorer(run)
    layers = list(app.layer.options)
    level_t, layer_t = [], []
    for rep in range(3):
        for l in range(app.level.max + 1):
            t0 = time.perf_counter(); app.level.value = l; level_t.append(time.perf_counter() - t0)
        for name in layers[::3]:
            t0 = time.perf_counter(); app.layer.value = name; layer_t.append(time.perf_counter() - t0)
    ms = lambda xs: (round(statistics.median(xs) * 1000, 1), round(max(xs) * 1000, 1))
    res = dict(study=str(run.out), model=run.cfg.model, levels=app.level.max + 1, level_change_ms_median_max=ms(level_t),
               layer_change_ms_median_max=ms(layer_t))
    print(f"{run.cfg.model}, {res['levels']} levels: level change {ms(level_t)[0]} ms median, {ms(level_t)[1]} ms worst; "
          f"layer change {ms(layer_t)[0]} ms median, {ms(layer_t)[1]} ms worst (Python work, from the change to updated figures)")
    live = ImpRun(Path(a.out + '-live'), ImpConfig(rounds=2, fraction=0.5, controls=('reinit',),
                  train=dict(epochs=3, n_train=20000, n_test=2000)), device='cpu', progress=False)
    w = watch(live); w.start()
    while live.metrics(0, 'dense') is None and w.thread.is_alive(): time.sleep(0.05)
    busy = []
    while w.thread.is_alive() and len(busy) < 40:
        for l in (1, 0):
            t0 = time.perf_counter(); w.explorer.level.value = l; busy.append(time.perf_counter() - t0)
        time.sleep(0.1)
    live.stop(); w.wait()
    res['level_change_during_training_ms_median_max'] = ms(busy)
    print(f"while training in the background thread: level change {ms(busy)[0]} ms median, {ms(busy)[1]} ms worst ({len(busy)} moves)")
    save_json(res, Path('benchmarks/results/explorer_speed.json'))

if __name__ == '__main__': main()
