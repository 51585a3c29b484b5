"""The LTH paper's LeNet-300-100 protocol on genuine Fashion-MNIST, over several seeds: the study shipped in
data/lenet300-fmnist-lth.

Frankle & Carbin 2019 (arXiv:1803.03635), section 2 and appendix: Gaussian Glorot init, Adam at 1.2e-3, batch 60,
50,000 iterations, 5,000 training images held out for validation, 20% of each layer pruned a level and the output layer
at 10%, the ticket against a randomly re-initialised network. One departure, for CPU time: evaluation every 200
iterations (the paper: 100), so the early-stop iteration is known to 200.

    python benchmarks/lth_lenet_study.py --rounds 10 --seeds 0,1,2 --out runs/lenet300-fmnist-lth

Levels are trained round-robin over the seeds (level 0 of each seed, then level 1 of each, ...), so stopping at any
point leaves every seed at the same depth; run it again to continue. The same study from the command line, seed by seed:
    lottery-nb imp --protocol lth_lenet --controls reinit --rounds 10 --eval-every 200 --seeds 0,1,2 --out runs/lth
"""
import argparse, time
import torch
from lottery_nb.layout import seed_study
from lottery_nb.runs import protocol, ImpRun, Finished

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rounds', type=int, default=10)
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--eval-every', type=int, default=200)
    p.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument('--out', default='runs/lenet300-fmnist-lth')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    seeds = [int(s) for s in a.seeds.split(',')]
    runs = [ImpRun(seed_study(a.out, s), protocol('lth_lenet', rounds=a.rounds, controls=('reinit',), seed=s,
                                                 train=dict(eval_every=a.eval_every)), device='cpu', progress=False)
            for s in seeds]
    for level in runs[0].cfg.levels():
        for s, run in zip(seeds, runs):
            def stop_after_level(e, run=run):
                if isinstance(e, Finished) and e.level == level and all(run.is_done(level, v) for v in run.cfg.variants(level)):
                    run.stop()
            t0 = time.time()
            run.run(on_event=stop_after_level)
            for v in run.cfg.variants(level):
                m = run.metrics(level, v)
                es = m.get('early_stop') or {}
                print(f"seed {s} level {level} {v:>7}: {m['density']:7.2%} remaining, test acc {m['test_acc']:.4f}, "
                      f"early stop at {es.get('iteration')} ({es.get('test_acc')}), {time.time() - t0:.0f} s", flush=True)
    for run in runs: print(run.summary())

if __name__ == '__main__': main()
