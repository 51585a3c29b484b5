"""An instability sweep (Frankle et al. 2020) at a scale a CPU can run: ResNet-20 at width 0.5 on 10,000 Fashion-MNIST
images, 6 epochs at lr 0.2 with no warm-up. For each k, two copies are trained from the dense run's weights at iteration k
on different data orders, and the test error is measured at 11 points on the line between them.

    python benchmarks/stability_sweep.py --ks 0,20,78,156,312 --out runs/stability-resnet20w05   # ~15 min on a CPU core
    python benchmarks/stability_sweep.py --bn keep ...   # BatchNorm statistics interpolated, not recomputed

Resumable per k. Prints the barrier per k and writes it to benchmarks/results/stability_sweep-<bn>.json.
"""
import argparse, time
from pathlib import Path
import torch
from lottery_nb.core import save_json, device_name, default_device
from lottery_nb.data import get_data
from lottery_nb.models import arch_for
from lottery_nb.train import preset
from lottery_nb.stability import Sweep, StabilityConfig

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--ks', default='0,20,78,156,312')
    p.add_argument('--width', type=float, default=0.5)
    p.add_argument('--lr', type=float, default=0.2)
    p.add_argument('--epochs', type=int, default=6)
    p.add_argument('--warmup', type=float, default=0)
    p.add_argument('--bn', default='reset', choices=('reset', 'keep'))
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--device', default=None)
    p.add_argument('--out', default='runs/stability-resnet20w05')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    dev = default_device(a.device)
    train = preset('workshop', lr=a.lr, warmup_epochs=a.warmup, epochs=a.epochs)
    data = get_data('fashion_mnist', None, dev, train.n_train, train.n_test)
    arch = arch_for('resnet20', 'fashion_mnist', width=a.width)
    cfg = StabilityConfig(ks=tuple(int(k) for k in a.ks.split(',')), bn=a.bn)
    t0 = time.time()
    sweep = Sweep(a.out, arch, data, train, cfg)
    res = sweep.run(on_k=lambda r: print(f"k={r['k']:>5}: ends {100 * r['error'][0]:.2f}% / {100 * r['error'][-1]:.2f}% error, "
                                         f"highest {100 * max(r['error']):.2f}%, barrier {100 * r['barrier']:.2f} points "
                                         f"({time.time() - t0:.0f} s)", flush=True))
    for r in res: print(f"k={r['k']:>5}: barrier {100 * r['barrier']:5.2f} points; errors " + ' '.join(f"{100 * e:.1f}" for e in r['error']))
    save_json(dict(device=device_name(dev), torch=torch.__version__, args=vars(a), ipe=len(data.train) // train.batch_size,
                   results=[dict(k=r['k'], barrier=r['barrier'], error=r['error']) for r in res]),
              Path('benchmarks/results')/f'stability_sweep-{a.bn}.json')

if __name__ == '__main__': main()
