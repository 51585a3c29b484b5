"""ResNet-20 training speed: lottery_nb's trainer against the ordinary PyTorch pipeline (benchmarks/baseline.py), the cost of
holding a mask at zero, and three variants of a round trained together against one. Optionally, the accuracy the speed keeps
(Fashion-MNIST) and the time of a whole IMP study.

    python benchmarks/speed.py                 # speed figures (about 4 minutes on a 2-core CPU, 1 on a GPU)
    python benchmarks/speed.py --accuracy      # + fast preset and paper preset vs the baseline on genuine Fashion-MNIST
    python benchmarks/speed.py --study         # + a 10-round ResNet-20 IMP study, ticket and re-init (resumable: run again to continue)
    python benchmarks/speed.py --all           # all three

Speed is measured on CIFAR-shaped (3x32x32) uint8 noise: the pixels do not change the cost of a step.
Prints every figure and writes them as JSON to benchmarks/results/speed-<device type>.json (updated part by part).
"""
import argparse, os, time, traceback
from contextlib import contextmanager
from datetime import date
from pathlib import Path
import torch
from lottery_nb.core import default_device, device_name, save_json, load_json
from lottery_nb.data import Data, Split, get_spec, get_data
from lottery_nb.models import get_model
from lottery_nb.train import Trainer, preset, count_ops
from lottery_nb.together import TogetherTrainer
from lottery_nb.masks import prune, random_mask, reinit_state, extract_ticket
import baseline

NOTE = 'synthetic CIFAR-shaped uint8 images (the pixels do not change the cost of a step)'

class Results:
    "The benchmark's figures, written to `path` each time one is added, so a part that fails or a session that ends loses nothing measured."
    def __init__(self, path:Path):
        self.path = path
        self.d = load_json(path) if path.exists() else {}
    def put(self, *keys, value):
        d = self.d
        for k in keys[:-1]: d = d.setdefault(k, {})
        d[keys[-1]] = value
        save_json(self.d, self.path)
        return value

@contextmanager
def part(res:Results, *keys):
    "Run one part of the benchmark; if it fails, print why, record the error and go on with the next."
    try: yield
    except Exception as e:
        print(f"  FAILED: {' '.join(keys)}: {type(e).__name__}: {e}")
        traceback.print_exc()
        res.put(*keys, 'error', value=f"{type(e).__name__}: {e}")

@contextmanager
def cudnn_benchmark():
    "cuDNN timing its kernels, as a lottery_nb trainer has it while it trains (and as found, after)."
    was = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try: yield
    finally: torch.backends.cudnn.benchmark = was

def synthetic(n:int, device, seed=0):
    "CIFAR-shaped uint8 noise with random labels: as a lottery_nb `Data` on `device`, and as the HWC arrays the baseline reads."
    spec, g = get_spec('cifar10'), torch.Generator().manual_seed(seed)
    x, y = torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8), torch.randint(0, 10, (n,), generator=g)
    data = Data(spec, Split(x.to(device), y.to(device), spec), Split(x[:1024].to(device), y[:1024].to(device), spec))
    return data, x.permute(0, 2, 3, 1).numpy().copy(), y.tolist()

def _sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)

def paths(t) -> dict:
    "Which paths a trainer's step took: its plan, whether the CUDA graph was captured, whether it ran compiled, fused networks."
    p = t.plan
    return dict(precision=p.precision, channels_last=p.channels_last, graphs=bool(getattr(t.step, 'captured', False)),
                compiled=t.fwd is not t.model, fused_networks=getattr(t, 'n', 1))

def time_trainer(t, steps:int, warmup:int) -> dict:
    "Seconds per step of a trainer's own epoch loop (batch gather and augmentation, forward, backward, step, mask): `warmup` untimed, then `steps` timed."
    t.train_epoch(warmup); _sync(t.device)   # also makes the ready data, compiles, captures the CUDA graph
    t0 = time.perf_counter(); t.train_epoch(steps); _sync(t.device)
    sec = (time.perf_counter() - t0) / steps
    return dict(batch_size=t.cfg.batch_size, seconds_per_step=sec, images_per_second=t.cfg.batch_size / sec, **paths(t))

def time_apply_mask(t, reps:int=200) -> float:
    "Seconds per call of the trainer's mask enforcement alone."
    t.apply_mask(); _sync(t.device)
    t0 = time.perf_counter()
    for _ in range(reps): t.apply_mask()
    _sync(t.device)
    return (time.perf_counter() - t0) / reps

def speed(res:Results, dev, steps:int, warmup:int, workers:int, compile_:bool):
    "Every speed figure, each written as soon as it is measured."
    bs0, bsf = 128, preset('fast').batch_size
    data, hwc, labels = synthetic(max(bs0, bsf) * (steps + warmup), dev)
    mean, std = get_spec('cifar10').mean, get_spec('cifar10').std
    with part(res, 'speed', 'baseline'), cudnn_benchmark():   # the cuDNN settings the trainer trains with
        ds = baseline.ArrayDataset(hwc[:bs0 * (steps + warmup)], labels[:bs0 * (steps + warmup)], baseline.train_transform(32, mean, std))
        base = baseline.time_steps(get_model('resnet20'), baseline.loader(ds, bs0, workers, True, dev), dev, steps, warmup)
        res.put('speed', 'baseline', value=dict(batch_size=bs0, workers=workers, seconds_per_step=base, images_per_second=bs0 / base,
                                                cudnn_benchmark=True))
    ours = lambda bs, masks=None, **kw: (Trainer(get_model('resnet20'), data, preset('fast', batch_size=bs, **kw), mask=masks, progress=False))
    for key, bs, kw in (('lottery_nb', bs0, {}), ('lottery_nb_fast', bsf, {}), *((('lottery_nb_fast_compiled', bsf, dict(compile=True)),) if compile_ else ())):
        with part(res, 'speed', key): res.put('speed', key, value=time_trainer(ours(bs, **kw), steps, warmup))
    net = get_model('resnet20')
    mask = prune(net, 0.8, 'global')
    with part(res, 'speed', 'mask'):
        t1 = ours(bsf, mask)
        r = time_trainer(t1, steps, warmup)
        res.put('speed', 'mask', value=dict(seconds_per_step=r['seconds_per_step'], apply_mask_seconds=time_apply_mask(t1)))
    ticket = extract_ticket(get_model('resnet20').state_dict(), mask=mask)[0]
    reinit = extract_ticket(reinit_state(dict(name='resnet20'), 1), mask=mask)[0]
    rmask = random_mask(mask, 2)
    for bs in (bs0, bsf):   # a round's ticket, re-init and random-pruning variants, fused, against one network
        with part(res, 'speed', f'together_{bs}'):
            models = [get_model('resnet20') for _ in range(3)]
            for m, sd in zip(models, (ticket, reinit, extract_ticket(get_model('resnet20').state_dict(), mask=rmask)[0])): m.load_state_dict(sd)
            one = time_trainer(ours(bs, mask), steps, warmup)
            three = time_trainer(TogetherTrainer(models, data, preset('fast', batch_size=bs), masks=[mask, mask, rmask], progress=False), steps, warmup)
            res.put('speed', f'together_{bs}', value=dict(batch_size=bs, one=one, three=three, ratio=three['seconds_per_step'] / one['seconds_per_step']))
    with part(res, 'speed', 'ops'):   # operations per training step (about the kernels a GPU launches without a graph)
        counts = {}
        for k in (1, 3):
            t = (ours(bs0, mask) if k == 1 else TogetherTrainer([get_model('resnet20', seed=s) for s in range(3)], data, preset('fast', batch_size=bs0),
                                                                 masks=[mask] * 3, progress=False))
            xb, yb = next(t.ready_train().batches(bs0, channels_last=t.plan.channels_last))
            t._step(xb, yb); counts[f'resnet20_x{k}'] = count_ops(t._step, xb, yb)
        res.put('speed', 'ops', value=counts)

def print_speed(r:dict, dev_name:str):
    ep = lambda x: 50_000 / x['images_per_second']
    how = lambda x: (f"[{x['precision']}{', channels-last' if x['channels_last'] else ''}{', CUDA graph' if x['graphs'] else ''}"
                     f"{', compiled' if x['compiled'] else ''}{', %d fused' % x['fused_networks'] if x['fused_networks'] > 1 else ''}]")
    print(f"ResNet-20 training on {dev_name} (torch {torch.__version__}), {r['steps']} timed steps each")
    b = r.get('baseline', {})
    if 'images_per_second' in b:
        print(f"  baseline (Dataset + DataLoader, {b['workers']} workers, per-sample PIL crop/flip, fp32), batch {b['batch_size']}:"
              f" {b['images_per_second']:8,.0f} img/s  {ep(b):7.1f} s per 50k-image epoch")
    for key, label in (('lottery_nb', ''), ('lottery_nb_fast', ' (the fast preset)'), ('lottery_nb_fast_compiled', ', torch.compile')):
        o = r.get(key)
        if o and 'images_per_second' in o:
            vs = f"  = {o['images_per_second'] / b['images_per_second']:.2f}x the baseline" if 'images_per_second' in b else ''
            print(f"  lottery_nb trainer, batch {o['batch_size']}{label}: {o['images_per_second']:8,.0f} img/s  {ep(o):7.1f} s per 50k-image epoch{vs}  {how(o)}")
    if 'apply_mask_seconds' in r.get('mask', {}):
        m = r['mask']
        print(f"  holding an 80%-sparse mask at zero: {m['apply_mask_seconds'] * 1e3:.3f} ms per step ({m['apply_mask_seconds'] / m['seconds_per_step']:.2%} of a step)")
    for bs in (128, 512):
        t = r.get(f'together_{bs}', {})
        if 'ratio' in t:
            print(f"  ticket + re-init + random trained together, batch {bs}: {t['three']['seconds_per_step'] * 1e3:.1f} ms per step"
                  f" vs {t['one']['seconds_per_step'] * 1e3:.1f} ms for one = {t['ratio']:.2f}x the time of one (in turn: 3x)  {how(t['three'])}")
    if 'resnet20_x1' in r.get('ops', {}):
        print(f"  operations per step: one ResNet-20 {r['ops']['resnet20_x1']}, three fused {r['ops']['resnet20_x3']}")
    for k, v in r.items():
        if isinstance(v, dict) and 'error' in v: print(f"  {k}: FAILED ({v['error']})")
    print(f"  ({NOTE})")

def accuracy(dev, data_dir, workers:int, fast_epochs:int, paper_epochs:int, n_train=None, n_test=None) -> dict:
    "Test accuracy on genuine Fashion-MNIST: the fast preset; the paper preset against the baseline trainer at the same epochs."
    spec = get_spec('fashion_mnist')
    data = get_data('fashion_mnist', data_dir, dev, n_train=n_train, n_test=n_test)
    r = {}
    t = Trainer(get_model('resnet20', in_channels=1), data, preset('fast', epochs=fast_epochs, **({'warmup_epochs': 0} if fast_epochs <= 2 else {})), desc='fast preset')
    t0 = time.perf_counter(); h = t.fit()
    r['fast'] = dict(epochs=fast_epochs, test_acc=h[-1]['test_acc'], seconds=time.perf_counter() - t0)
    ms = (round(paper_epochs / 2), round(paper_epochs * 3 / 4))
    t = Trainer(get_model('resnet20', in_channels=1), data, preset('paper', epochs=paper_epochs, milestones=ms), desc='paper preset')
    t0 = time.perf_counter(); h = t.fit()
    r['paper'] = dict(epochs=paper_epochs, milestones=ms, test_acc=h[-1]['test_acc'], seconds=time.perf_counter() - t0)
    tr, te = data.train, data.test
    train_ds = baseline.ArrayDataset(tr.x[:, 0].cpu().numpy(), tr.y.tolist(), baseline.train_transform(28, spec.mean, spec.std))
    test_ds = baseline.ArrayDataset(te.x[:, 0].cpu().numpy(), te.y.tolist(), baseline.test_transform(spec.mean, spec.std))
    t0 = time.perf_counter()
    accs = baseline.fit(get_model('resnet20', in_channels=1), train_ds, test_ds, paper_epochs, dev, workers=workers)
    r['baseline_paper'] = dict(epochs=paper_epochs, test_acc=accs[-1], seconds=time.perf_counter() - t0)
    r['n_train'], r['n_test'] = len(tr), len(te)
    return r

def print_accuracy(r:dict):
    f, p, b = r['fast'], r['paper'], r['baseline_paper']
    print(f"ResNet-20 on genuine Fashion-MNIST ({r['n_train']:,} training images, {r['n_test']:,} test images):")
    print(f"  lottery_nb, fast preset, {f['epochs']} epochs:  {f['test_acc']:.2%} test accuracy in {f['seconds']:.0f} s")
    print(f"  lottery_nb, paper preset, {p['epochs']} epochs: {p['test_acc']:.2%} in {p['seconds']:.0f} s")
    print(f"  baseline trainer, same schedule and epochs: {b['test_acc']:.2%} in {b['seconds']:.0f} s")

def study(dev, data_dir, out:Path, rounds:int, **train) -> dict:
    "A whole ResNet-20 IMP study at the fast preset: `rounds` levels of 20%, ticket and re-init (resumable)."
    from lottery_nb.runs import ImpRun
    from lottery_nb.config import ImpConfig
    cfg = ImpConfig(dataset='fashion_mnist', model='resnet20', preset='fast', rounds=rounds, fraction=0.2, controls=('reinit',), train=train)
    run = ImpRun(out, cfg, data_dir=data_dir, device=dev)
    t0 = time.perf_counter(); run.run(); wall = time.perf_counter() - t0
    done = all(run.is_done(l, v) for l, v in run.units())
    per_level = [max(run.metrics(l, v)['seconds'] for v in run.variants(l) if run.is_done(l, v)) for l in run.cfg.levels()
                 if any(run.is_done(l, v) for v in run.variants(l))]
    return dict(rounds=rounds, finished=done, together=run.trains_together(), wall_seconds_this_call=wall,
                training_seconds=sum(per_level), summary=run.summary(), out=str(out))

def print_study(r:dict):
    print(f"ResNet-20 IMP study on Fashion-MNIST, {r['rounds']} rounds of 20%, ticket + re-init, fast preset "
          f"({'trained together' if r['together'] else 'trained in turn'}; {'finished' if r['finished'] else 'NOT finished: run again to continue'}):")
    print(f"  training time {r['training_seconds'] / 60:.1f} min (sum over levels); wall time of this call {r['wall_seconds_this_call'] / 60:.1f} min")
    print('  ' + r['summary'].replace('\n', '\n  '))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default=None, help="cuda, cpu, ... (default: the best here)")
    p.add_argument('--steps', type=int, default=None, help="timed steps (default: 200 on CUDA, 10 on a CPU)")
    p.add_argument('--warmup', type=int, default=None, help="untimed steps first (default: 30 on CUDA, 2 on a CPU)")
    p.add_argument('--workers', type=int, default=min(8, os.cpu_count() or 1), help="the baseline's DataLoader workers (default: cores, at most 8)")
    p.add_argument('--no-compile', action='store_true', help="skip the torch.compile figure (measured on CUDA only)")
    p.add_argument('--accuracy', action='store_true', help="also train on genuine Fashion-MNIST (GPU: about 10 minutes)")
    p.add_argument('--fast-epochs', type=int, default=30)
    p.add_argument('--paper-epochs', type=int, default=30, help="epochs of the paper-preset vs baseline comparison (milestones at 1/2 and 3/4)")
    p.add_argument('--n-train', type=int, default=None, help="train the accuracy runs on a subset (a smoke test; default all 60,000)")
    p.add_argument('--study', action='store_true', help="also time a whole 10-round IMP study (GPU: about 10 minutes; resumable)")
    p.add_argument('--rounds', type=int, default=10)
    p.add_argument('--study-dir', default='runs/speed-study')
    p.add_argument('--all', action='store_true', help="--accuracy and --study too")
    p.add_argument('--skip-speed', action='store_true', help="only the parts asked for with --accuracy/--study")
    p.add_argument('--data-dir', default=None, help="where Fashion-MNIST is (default: data/, then the system package's)")
    p.add_argument('--out', default='benchmarks/results')
    p.add_argument('--smoke', action='store_true', help="every part at a tiny scale, to check the command works (figures meaningless)")
    a = p.parse_args()
    small = dict(n_train=512, n_test=500) if a.smoke else {}
    if a.smoke: a.steps, a.warmup, a.fast_epochs, a.paper_epochs, a.rounds, a.n_train = 1, 1, 1, 1, 1, 512
    dev = default_device(a.device)
    cuda = dev.type == 'cuda'
    res = Results(Path(a.out)/f'speed-{dev.type}.json')
    res.put('device', value=device_name(dev)); res.put('torch', value=torch.__version__); res.put('cpu_count', value=os.cpu_count())
    if not a.skip_speed:
        steps, warmup = a.steps or (200 if cuda else 10), a.warmup or (30 if cuda else 2)
        res.put('speed', value=dict(date=str(date.today()), steps=steps, warmup=warmup, data=NOTE))
        speed(res, dev, steps, warmup, a.workers, cuda and not a.no_compile)
        print_speed(res.d['speed'], res.d['device'])
    if a.accuracy or a.all:
        with part(res, 'accuracy'):
            res.put('accuracy', value=dict(date=str(date.today()), **accuracy(dev, a.data_dir, a.workers, a.fast_epochs, a.paper_epochs, a.n_train, small.get('n_test'))))
            print_accuracy(res.d['accuracy'])
    if a.study or a.all:
        with part(res, 'study'):
            res.put('study', value=dict(date=str(date.today()), **study(dev, a.data_dir, Path(a.study_dir), a.rounds, **(dict(epochs=1, warmup_epochs=0, **small) if a.smoke else {}))))
            print_study(res.d['study'])
    print(f"written to {res.path}")

if __name__ == '__main__': main()
