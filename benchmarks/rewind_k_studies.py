"""IMP against the rewind point k, on the network of benchmarks/stability_sweep.py: ResNet-20 at width 0.5 on 10,000
Fashion-MNIST images, 6 epochs at lr 0.2 without warm-up, three levels of 40% global pruning, one study per k (the first
with a re-initialised control). Beside the sweep's barrier at the same k, it shows whether IMP finds matching tickets where
training is stable (Frankle et al. 2020, figure 1's question at CPU scale).

    python benchmarks/rewind_k_studies.py --ks 0,20,78,156 --out runs/rewind-k    # ~20 min on one CPU core; resumable
"""
import argparse
import torch
from lottery_nb.config import ImpConfig
from lottery_nb.runs import ImpRun

def config(k:int) -> ImpConfig:
    "The study rewound to iteration `k`: the sweep's network and training."
    return ImpConfig(dataset='fashion_mnist', model='resnet20', model_kwargs=dict(width=0.5), preset='workshop',
                     train=dict(n_train=10_000, n_test=2_000, epochs=6, lr=0.2, warmup_epochs=0), rounds=3, fraction=0.4,
                     controls=('reinit',) if k == 0 else (), rewind_iter=k)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--ks', default='0,20,78,156')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--out', default='runs/rewind-k')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    for k in (int(x) for x in a.ks.split(',')):
        run = ImpRun(f'{a.out}/k{k:04d}', config(k), device='cpu', progress=False)
        run.run(on_unit=lambda m, k=k: print(f"k={k} level {m['level']} {m['variant']}: {m['density']:.2%} remaining, "
                                             f"test acc {m['test_acc']:.4f} ({m['seconds']:.0f} s)", flush=True))
        print(f"k={k}\n{run.summary()}", flush=True)

if __name__ == '__main__': main()
