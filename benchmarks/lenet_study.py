"""A real IMP study on a CPU: LeNet-300-100 on the genuine Fashion-MNIST, 5 levels of 20% global magnitude pruning
(output layer at half rate), the ticket against a re-initialised network and random pruning at every level.

    python benchmarks/lenet_study.py                 # about 10 minutes on 2 CPU cores; resumable
    python benchmarks/lenet_study.py --rounds 10     # further into sparsity, where the controls fall behind

The same study from the command line:
    lottery-nb imp --model lenet300_100 --preset fast --set n_train=none n_test=none augment=false warmup_epochs=0 \\
        --epochs 10 --batch-size 128 --lr 0.1 --rounds 5 --fraction 0.2 --controls reinit,random --out runs/lenet-imp
Prints test accuracy per level and variant and writes it to benchmarks/results/lenet_study.json.
"""
import argparse
from pathlib import Path
import torch
from lottery_nb.core import save_json, default_device, device_name
from lottery_nb.config import ImpConfig
from lottery_nb.runs import ImpRun

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--fraction', type=float, default=0.2)
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--device', default='cpu')
    p.add_argument('--out', default=None, help='the study directory (default runs/lenet-study-R<rounds>)')
    a = p.parse_args()
    cfg = ImpConfig(dataset='fashion_mnist', model='lenet300_100', preset='fast', rounds=a.rounds, fraction=a.fraction,
                    train=dict(epochs=a.epochs, batch_size=128, lr=0.1, warmup_epochs=0, augment=False, n_train=None, n_test=None),
                    controls=('reinit', 'random'))
    run = ImpRun(a.out or f'runs/lenet-study-R{a.rounds}', cfg, device=default_device(a.device), progress=False)
    run.run(on_unit=lambda m: print(f"  level {m['level']} {m['variant']:>7}: {m['density']:7.2%} remaining, "
                                    f"test accuracy {m['test_acc']:.4f} ({m['seconds']:.0f} s)", flush=True))
    print(run.summary())
    res = [dict(level=m['level'], variant=m['variant'], remaining=m['density'], test_acc=m['test_acc'],
                best_test_acc=max(h['test_acc'] for h in m['history']), seconds=m['seconds']) for m in run.results()]
    save_json(dict(device=device_name(torch.device(a.device)), torch=torch.__version__, config=cfg.__dict__, results=res),
              Path('benchmarks/results')/f'lenet_study-R{a.rounds}.json')

if __name__ == '__main__': main()
