"""The LTH paper's LeNet-300-100 protocol on genuine Fashion-MNIST, over several seeds: the study shipped in
data/lenet300-fmnist-lth.

Frankle & Carbin 2019 (arXiv:1803.03635), section 2 and appendix: Gaussian Glorot init, Adam at 1.2e-3, batch 60,
50,000 iterations in float32, 5,000 training images held out for validation (a different 5,000 for each seed), evaluated
every 100 iterations, 20% of each layer pruned a level and the output layer at 10%, the ticket against a re-initialised
network and a random mask of the same per-layer sparsity, each unit on a data order of its own. Fifteen levels reach
3.6% of the weights, where the paper's Figure 3 ends.

    python benchmarks/lth_lenet_study.py --seeds 0,2,4 --threads 1 &     # two processes, one torch thread each:
    python benchmarks/lth_lenet_study.py --seeds 1,3,5 --threads 1 &     # far faster than two threads each

Each seed is a study of its own in OUT/seed_N, trained to the end before the next (--order seed) or all seeds a level
at a time (--order level); stop it any time and run the same command again to continue. `--ship data/lenet300-fmnist-lth`
then copies the finished seeds as data/ ships them (`lottery_nb.runs.ship`). The same study from the command
line: `lottery-nb imp --protocol lth_lenet --rounds 15 --seeds 0,1,2,3,4,5 --out runs/lth`.
"""
import argparse, time
import torch
from lottery_nb.layout import seed_study
from lottery_nb.config import protocol
from lottery_nb.runs import ImpRun, Finished, ship

def line(s, level, run, t0):
    "One line per finished level: each variant's density, final accuracy and early stop."
    for v in run.cfg.variants(level):
        m = run.metrics(level, v)
        es = m.get('early_stop') or {}
        print(f"seed {s} level {level:2} {v:>7}: {m['density']:7.2%} remaining, test acc {m['test_acc']:.4f}, "
              f"early stop at {es.get('iteration')} ({es.get('test_acc')}), {time.time() - t0:.0f} s", flush=True)

def train_level(s, run, level):
    "Train `run` up to and including `level`, then stop."
    def stop_after(e):
        if isinstance(e, Finished) and e.level == level and all(run.is_done(level, v) for v in run.cfg.variants(level)):
            run.stop()
    t0 = time.time()
    if not all(run.is_done(level, v) for v in run.cfg.variants(level)): run.run(on_event=stop_after)
    line(s, level, run, t0)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rounds', type=int, default=15)
    p.add_argument('--seeds', default='0,1,2,3,4')
    p.add_argument('--order', choices=('seed', 'level'), default='seed',
                   help="finish each seed before the next, or train every seed a level at a time")
    p.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument('--out', default='runs/lenet300-fmnist-lth')
    p.add_argument('--ship', default=None, metavar='DEST',
                   help="instead of training, copy the finished seeds to DEST as data/ ships them (the first seed with weights)")
    a = p.parse_args()
    if a.ship:
        for i, s in enumerate(int(x) for x in a.seeds.split(',')):
            ship(seed_study(a.out, s), seed_study(a.ship, s), weights=i == 0, mean_image=i == 0)
        return print(f"shipped seeds {a.seeds} of {a.out} to {a.ship}")
    if a.threads: torch.set_num_threads(a.threads)
    seeds = [int(s) for s in a.seeds.split(',')]
    runs = {s: ImpRun(seed_study(a.out, s), protocol('lth_lenet', rounds=a.rounds, seed=s), device='cpu', progress=False)
            for s in seeds}
    levels = runs[seeds[0]].cfg.levels()
    plan = ([(s, l) for s in seeds for l in levels] if a.order == 'seed' else [(s, l) for l in levels for s in seeds])
    for s, level in plan: train_level(s, runs[s], level)
    for s, run in runs.items(): print(f"seed {s}\n{run.summary()}")

if __name__ == '__main__': main()
