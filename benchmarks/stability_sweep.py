"""Instability analysis (Frankle et al. 2020) of the rewind-k studies: the sweep shipped in
data/resnet20w05-fmnist-rewind-k/k0000/stability/.

ResNet-20 at width 0.5 on 10,000 Fashion-MNIST images, 6 epochs at lr 0.2 with no warm-up (benchmarks/rewind_k_studies.py).
For each k, three pairs of copies are trained from the dense run's weights at iteration k, each pair on two data orders of
its own, and the test error is measured at 30 points on the line between the two copies of a pair: the barrier is the
mean over the pairs, with its sd.

- dense (`level_00`): the dense network from k = 0, 20, 78, 156 and 312, BatchNorm recomputed at every point and
  interpolated (`--bn both`);
- sparse (`level_LL`, `--level 3`): at each k that a study rewinds to, the level-3 subnetwork *that study's* IMP found
  (rewinding to k), trained from k under its mask: the subnetworks the paper analyses.

    python benchmarks/stability_sweep.py --studies runs/rewind-k            # resumable per k and pair
    python benchmarks/stability_sweep.py --studies runs/rewind-k --smoke    # seconds: checks the script, figures meaningless

Prints the barrier per k (mean ± sd over the pairs) and writes them to benchmarks/results/stability_sweep-<device>.json.
"""
import argparse, time
from dataclasses import replace
from pathlib import Path
import torch
from lottery_nb.core import save_json, device_name, default_device
from lottery_nb.runs import open_run
from lottery_nb.stability import StabilityConfig, study_sweep, rewound_masks

def studies(root:Path) -> dict:
    "k -> the study in `root/kNNNN` that rewinds to k."
    return {int(p.name[1:]): p for p in sorted(root.glob('k[0-9]*')) if (p/'run.json').exists()}

def say(what:str, t0:float):
    return lambda r: print(f"{what} k={r['k']:>5}: barrier {100 * r['barrier']:5.2f} ± {100 * (r['barrier_sd'] or 0):.2f} "
                           f"points over {r['pairs']} pairs ({time.time() - t0:.0f} s)", flush=True)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--studies', default='runs/rewind-k', help="the rewind-k studies' folder (kNNNN inside)")
    p.add_argument('--ks', default='0,20,78,156,312', help="the dense sweep's k")
    p.add_argument('--level', type=int, default=3, help="the level whose masks the sparse sweep trains under (0: none)")
    p.add_argument('--pairs', type=int, default=3)
    p.add_argument('--points', type=int, default=30)
    p.add_argument('--bn', default='both', choices=('reset', 'keep', 'both'), help="the dense sweep's BatchNorm")
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--device', default=None)
    p.add_argument('--smoke', action='store_true', help="tiny: 2 epochs on 1,000 images, 1 pair, 3 points")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    dev, t0, out = default_device(a.device), time.time(), {}
    found = studies(Path(a.studies))
    base = open_run(found[0], device=dev, progress=False)
    if a.smoke:   # the same code on a sliver of the data
        base.cfg.recorded = replace(base.cfg.train_config(), epochs=2, n_train=1000, n_test=500)
        a.pairs, a.points = 1, 3
    ks = tuple(int(k) for k in a.ks.split(','))
    for bn in (('reset', 'keep') if a.bn == 'both' else (a.bn,)):
        cfg = StabilityConfig(ks=ks, points=a.points, bn=bn, pairs=a.pairs)
        if a.smoke: cfg = replace(cfg, ks=tuple(k for k in ks if k < 10))
        out[f'dense_{bn}'] = study_sweep(base, cfg).run(on_k=say(f'dense, BatchNorm {bn}:', t0))
    if a.level:
        runs = {k: open_run(p, progress=False) for k, p in found.items()}
        masks = rewound_masks(runs, a.level)
        cfg = StabilityConfig(ks=tuple(masks), points=a.points, bn='reset', level=a.level, pairs=a.pairs)
        if a.smoke: cfg = replace(cfg, ks=tuple(k for k in masks if k < 10))
        out[f'level{a.level}_reset'] = study_sweep(base, cfg, masks=masks).run(on_k=say(f'level {a.level}:', t0))
    res = {w: [dict(k=r['k'], barrier=r['barrier'], barrier_sd=r['barrier_sd'], barriers=r['barriers']) for r in rs]
           for w, rs in out.items()}
    save_json(dict(device=device_name(dev), torch=torch.__version__, args=vars(a), seconds=round(time.time() - t0),
                   results=res), Path('benchmarks/results')/f"stability_sweep-{dev.type}{'-smoke' if a.smoke else ''}.json")
    print(f"done in {time.time() - t0:.0f} s")

if __name__ == '__main__': main()
