"""The GPU path, proven in one command: every rule the training step relies on, checked on the GPU itself, with the speed
figures the README promises, in at most five minutes.

    PYTHONPATH=. python3 benchmarks/gpu_check.py                  # on a GPU machine (Fashion-MNIST's files in data/)
    python benchmarks/gpu_check.py --smoke --device cpu          # this script itself, on a CPU, at a tiny scale

Needs only torch, torchvision, numpy, tqdm and safetensors (a bare GPU image). Each part records its figures to
OUT/gpu_check-<device>.json the moment it ends; a part that fails records why and the next one runs; parts that would
not fit in what is left of --budget are skipped, the most important first. Ends with a table: each check, what was
measured, and whether it holds.
"""
import argparse, contextlib, gc, io, json, os, sys, tempfile, time, traceback, weakref
from dataclasses import asdict, replace
from pathlib import Path
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]
import torch
import lottery_nb.core as core
from lottery_nb.core import default_device, device_name, save_json
from lottery_nb.data import get_data
from lottery_nb.models import get_model
from lottery_nb.masks import prune, random_mask, extract_ticket, reinit_state
from lottery_nb.train import (Trainer, StepPlan, LambdaCallback, preset, plan_step, device_caps, save_train_state)
from lottery_nb.together import TogetherTrainer
import speed, baseline

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--device', default=None, help="the GPU to check (default: cuda if there is one)")
p.add_argument('--budget', type=float, default=280, help="seconds for every part; later parts are skipped past it")
p.add_argument('--smoke', action='store_true', help="tiny sizes: checks this script (figures meaningless)")
p.add_argument('--only', default='', help="comma-separated part names")
p.add_argument('--out', default='benchmarks/results')
A = p.parse_args()
T0, DEV = time.perf_counter(), default_device(A.device)
CUDA = DEV.type == 'cuda'
S = lambda full, smoke: smoke if A.smoke else full
BS = S((128, 512), (16, 32))                 # the paper's batch and the fast preset's
STEPS, WARM = S(100, 2), S(20, 1)            # timed and untimed steps
NET = S('resnet20', 'resnet8')
R = dict(device=device_name(DEV), torch=torch.__version__, cuda=torch.version.cuda, smoke=A.smoke,
         started=time.strftime('%Y-%m-%d %H:%M:%S'), parts={})
OUT = Path(A.out)/f"gpu_check-{DEV.type}{'-smoke' if A.smoke else ''}.json"
CHECKS = []   # (part, what, measured, holds)

def left() -> float: return A.budget - (time.perf_counter() - T0)
def sync(): torch.cuda.synchronize(DEV) if CUDA else None
def save(): save_json(R, OUT)
def mb(x): return round(x / 2**20, 1)
def check(part:str, what:str, measured, holds:bool|None): CHECKS.append((part, what, measured, holds)); return holds
def captured(t) -> bool: return bool(getattr(t.step, 'captured', False))
def state(t) -> dict: return {k: v.detach().clone() for k, v in t.model.state_dict().items()}
def same(a:dict, b:dict) -> bool: return all(torch.equal(a[k], b[k]) for k in a)

class Tee(io.TextIOBase):
    "stderr to the terminal and to a buffer, so a part records the lines lottery_nb said during it."
    def __init__(self, real): self.real, self.buf = real, io.StringIO()
    def write(self, s): self.real.write(s); self.buf.write(s); return len(s)
    def flush(self): self.real.flush()

def part(name:str, need:float=0):
    "Run the decorated function now as one part: its dict goes to R['parts'][name], or its error; skipped without time."
    def run(fn):
        if A.only and name not in A.only.split(','): return fn
        if left() < need:
            R['parts'][name] = dict(skipped=f"{left():.0f} s of the budget left, it needs about {need:.0f}")
            print(f"== {name}: skipped", flush=True); save(); return fn
        print(f"== {name} ({left():.0f} s left)", flush=True)
        core._said.clear()
        tee, t0 = Tee(sys.stderr), time.perf_counter()
        try:
            with contextlib.redirect_stderr(tee): r = fn()
        except Exception as e:
            r = dict(error=f"{type(e).__name__}: {e}"[:500], trace=traceback.format_exc()[-2500:])
            check(name, 'ran', r['error'][:80], False)
        finally: torch.backends.cudnn.deterministic = False
        said = [l for l in tee.buf.getvalue().splitlines() if l.startswith('lottery_nb:')]
        R['parts'][name] = dict(r, notes=said, seconds=round(time.perf_counter() - t0, 1))
        print(json.dumps(R['parts'][name], default=str)[:1500], flush=True); save()
        gc.collect()
        if CUDA: torch.cuda.empty_cache()
        return fn
    return run

SYN = None
def synthetic():
    "CIFAR-shaped uint8 noise (the pixels do not change a step's cost), enough for the timed steps at the larger batch."
    global SYN
    if SYN is None: SYN = speed.synthetic(max(BS) * (STEPS + WARM + 8), DEV)
    return SYN

def fmnist(n_train=None, n_test=None, device=DEV):
    return get_data('fashion_mnist', device=device, **({'n_train': n_train} if n_train else {}), **({'n_test': n_test} if n_test else {}))

# ---------------------------------------------------------------------------------------------------------------------
@part('plan')
def _():
    caps, bench = device_caps(DEV), torch.backends.cudnn.benchmark
    r = dict(caps=asdict(caps), resnet20_fast=asdict(plan_step(preset('fast'), caps, True)),
             lenet_lth=asdict(plan_step(preset('lth_lenet'), caps, False)), cudnn_benchmark_at_start=bench)
    if CUDA: r.update(gpu=torch.cuda.get_device_name(DEV), capability=torch.cuda.get_device_capability(DEV), gpus=torch.cuda.device_count())
    check('plan', 'ResNet-20 fast preset plan', f"{r['resnet20_fast']['precision']}, channels-last {r['resnet20_fast']['channels_last']}, "
          f"graphs {r['resnet20_fast']['graphs']}", not CUDA or (r['resnet20_fast']['graphs'] and r['resnet20_fast']['channels_last']))
    return r

@part('equality', need=S(30, 0))
def _():
    "Graphed against eager from one init, one mask and one stream of batches, the lr changing every step."
    data, mask = synthetic()[0], prune(get_model(NET), 0.8, 'global')
    cfg, steps, r = preset('fast', batch_size=BS[0], epochs=2, warmup_epochs=1), S(12, 4), {}
    base = plan_step(cfg, device_caps(DEV), True)
    def train(plan):
        torch.backends.cudnn.deterministic = True
        t = Trainer(get_model(NET), data, cfg, mask=mask, progress=False, plan=plan)
        t.train_epoch(steps); sync()
        return t
    for name, plan in (('planned', base), ('fp16', replace(base, precision='fp16'))):
        if name == 'fp16' and not CUDA: continue   # a CPU's fp16 autocast is tested by the unit tests
        eager, graphed = train(replace(plan, graphs=False)), train(replace(plan, graphs=True))
        params = dict(graphed.model.named_parameters())
        zero = all(bool((params[k][~m] == 0).all()) for k, m in graphed.mask.items())
        before = state(graphed); xb, yb = next(graphed._batches()); graphed.step(xb, yb); sync()
        r[name] = dict(precision=plan.precision, captured=captured(graphed), bitwise=same(state(eager), before),
                       masked_zero=zero, replay_moves_weights=not same(before, state(graphed)))
        check('equality', f'{name} ({plan.precision}): captured; bitwise = eager; mask zeros; a replay trains',
              [r[name][k] for k in ('captured', 'bitwise', 'masked_zero', 'replay_moves_weights')],
              all(r[name].values() if CUDA else [r[name]['bitwise'], zero]))
    return r

@part('speed', need=S(40, 0))
def _():
    "ResNet-20 images/s, graphed and eager, beside the ordinary pipeline timed with the same cuDNN settings."
    data, hwc, labels = synthetic()
    bench = torch.backends.cudnn.benchmark
    with speed.cudnn_benchmark():   # the trainer times its kernels (while it trains); so does the baseline here
        n, spec = BS[0] * (STEPS + WARM), speed.get_spec('cifar10')
        ds = baseline.ArrayDataset(hwc[:n], labels[:n], baseline.train_transform(32, spec.mean, spec.std))
        workers = min(8, os.cpu_count() or 1)
        sec = baseline.time_steps(get_model(NET), baseline.loader(ds, BS[0], workers, True, DEV), DEV, STEPS, WARM)
    r = dict(baseline=dict(batch_size=BS[0], workers=workers, images_per_second=round(BS[0] / sec)))
    for bs in BS:
        for graphs in (True, False):
            cfg = preset('fast', batch_size=bs)
            t = Trainer(get_model(NET), data, cfg, progress=False, plan=replace(plan_step(cfg, device_caps(DEV), True), graphs=graphs and CUDA))
            x = speed.time_trainer(t, STEPS, WARM)
            r[f'bs{bs}_{"graph" if graphs else "eager"}'] = dict(images_per_second=round(x['images_per_second']), captured=captured(t),
                                                                 x_baseline=round(x['images_per_second'] / r['baseline']['images_per_second'], 2))
            del t
    fast = r[f'bs{BS[1]}_graph']
    r['fast_preset_epoch_seconds'] = round(50_000 / fast['images_per_second'], 3)
    r['cudnn_benchmark_after'] = torch.backends.cudnn.benchmark
    check('speed', 'fast preset: a 50,000-image epoch <= 1.0 s', f"{r['fast_preset_epoch_seconds']} s", r['fast_preset_epoch_seconds'] <= 1.0)
    check('speed', 'fast preset >= 10x the ordinary pipeline (same cuDNN settings)', f"{fast['x_baseline']}x", fast['x_baseline'] >= 10)
    check('speed', 'a trainer leaves cudnn.benchmark as it found it', bench == r['cudnn_benchmark_after'], bench == r['cudnn_benchmark_after'])
    return r

@part('together', need=S(40, 0))
def _():
    "A level's ticket, re-init and random mask trained as one fused model, against the ticket alone."
    data, r = synthetic()[0], {}
    mask = prune(get_model(NET), 0.8, 'global'); rmask = random_mask(mask, 2)
    for bs in BS:
        cfg = preset('fast', batch_size=bs)
        one = speed.time_trainer(Trainer(get_model(NET), data, cfg, mask=mask, progress=False), STEPS, WARM)
        tt = TogetherTrainer([get_model(NET, seed=s) for s in range(3)], data, cfg, masks=[mask, mask, rmask], progress=False)
        three = speed.time_trainer(tt, STEPS, WARM)
        r[f'bs{bs}'] = dict(one_ms=round(one['seconds_per_step'] * 1e3, 3), three_ms=round(three['seconds_per_step'] * 1e3, 3),
                            ratio=round(three['seconds_per_step'] / one['seconds_per_step'], 3), captured=captured(tt))
        check('together', f'three fused <= 1.5x one, batch {bs}', f"{r[f'bs{bs}']['ratio']}x", r[f'bs{bs}']['ratio'] <= 1.5)
        del tt
    return r

@part('adam', need=S(20, 0))
def _():
    "The lth_lenet protocol's optimiser: fused Adam, captured (capturable on CUDA), and equal to eager."
    data = fmnist(S(6000, 600), S(1000, 200))
    cfg = preset('lth_lenet', iterations=10_000, eval_every=None, eval_at=())
    lenet = lambda: get_model('lenet300_100', in_channels=1, img_size=28, init='glorot_normal')
    plan = plan_step(cfg, device_caps(DEV), False)
    g, e = Trainer(lenet(), data, cfg, progress=False), Trainer(lenet(), data, cfg, progress=False, plan=replace(plan, graphs=False))
    g.train_epoch(S(30, 5)); e.train_epoch(S(30, 5)); sync()
    r = dict(captured=captured(g), capturable=g.opt.param_groups[0].get('capturable'), bitwise=same(state(g), state(e)),
             graph=speed.time_trainer(g, S(200, 3), S(10, 1))['images_per_second'],
             eager=speed.time_trainer(e, S(200, 3), S(10, 1))['images_per_second'])
    check('adam', 'fused Adam captured, bitwise = eager', (r['captured'], r['bitwise']), r['bitwise'] and (r['captured'] or not CUDA))
    return r

@part('resume', need=S(30, 0))
def _():
    "A state written here resumed here (bitwise), on the CPU, and one written on the CPU resumed here."
    torch.backends.cudnn.deterministic = True
    tmp, n = Path(tempfile.mkdtemp()), dict(n_train=S(4096, 512), n_test=S(1000, 200))
    here, cpu = fmnist(**n), fmnist(**n, device='cpu')
    c = preset('fast', epochs=2, warmup_epochs=0, batch_size=S(512, 64))
    net = lambda: get_model(NET, in_channels=1, seed=1)
    stop = lambda: [LambdaCallback(after_epoch=lambda t: setattr(t, 'stop', True))]
    first = Trainer(net(), here, c, progress=False, cbs=stop()); first.fit()
    save_train_state(first.state_dict(), tmp/'here.safetensors')
    back = Trainer(net(), here, c, progress=False); back.resume(tmp/'here.safetensors'); back.fit()
    straight = Trainer(net(), here, c, progress=False); straight.fit()
    r = dict(same_device_bitwise=same(state(back), state(straight)), generator_bytes=first.gen.get_state().numel())
    def cross(src, dst, name):
        t = Trainer(net(), src, c, progress=False, cbs=stop()); t.fit(); save_train_state(t.state_dict(), tmp/f'{name}.safetensors')
        u = Trainer(net(), dst, c, progress=False)
        try: u.resume(tmp/f'{name}.safetensors'); u.fit(); return dict(ok=True, epochs=len(u.history), test_acc=u.history[-1]['test_acc'])
        except Exception as e: return dict(ok=False, error=f"{type(e).__name__}: {e}"[:200])
    r['here_to_cpu'], r['cpu_to_here'] = cross(here, cpu, 'to_cpu'), cross(cpu, here, 'from_cpu')
    check('resume', 'resumed on this device = straight through, bitwise', r['same_device_bitwise'], r['same_device_bitwise'])
    check('resume', 'this device -> CPU and CPU -> this device continue', (r['here_to_cpu']['ok'], r['cpu_to_here']['ok']),
          r['here_to_cpu']['ok'] and r['cpu_to_here']['ok'])
    return r

@part('memory', need=S(10, 0))
def _():
    "What a finished trainer keeps once dropped, without a gc.collect(): nothing, graph pool included."
    data, cfg = synthetic()[0], preset('fast', batch_size=BS[1])
    Trainer(get_model(NET), data, cfg, progress=False).ready_train()   # the dataset made ready is the data's, kept for every trainer
    gc.collect(); sync()
    mem = (lambda: (torch.cuda.memory_allocated(DEV), torch.cuda.memory_reserved(DEV))) if CUDA else (lambda: (0, 0))
    a0, _ = mem()
    t = Trainer(get_model(NET), data, cfg, progress=False); t.train_epoch(S(8, 4)); sync()
    a1, _ = mem(); ref = weakref.ref(t)
    was = gc.isenabled(); gc.disable()
    try: del t; sync(); freed, a2 = ref() is None, mem()[0]
    finally:
        if was: gc.enable()
    r = dict(freed_without_gc=freed, allocated_mb_while_trained=mb(a1 - a0), allocated_mb_after_del=mb(a2 - a0))
    check('memory', 'a dropped trainer is freed at once (no cyclic GC)', f"{r['allocated_mb_after_del']} MB kept", freed)
    return r

@part('churn', need=S(25, 0))
def _():
    "Trainers made, trained a few graphed steps and dropped one after another, as a study's units and a sweep's pairs are."
    data, n, fails, caps = synthetic()[0], S(20, 3), 0, 0
    for i in range(n):
        t = Trainer(get_model(NET, seed=i), data, preset('fast', batch_size=BS[0]), progress=False)
        t.train_epoch(5); caps += captured(t); fails += bool(getattr(t.step, 'failed', False))
        junk = [[] for _ in range(2000)]; [j.append(j) for j in junk]   # cycles for the collector to find mid-capture
    r = dict(trainers=n, captured=caps, failed=fails)
    check('churn', f'{n} trainers in a row: every capture succeeds', f"{caps}/{n} captured", fails == 0 and (caps == n or not CUDA))
    return r

@part('masks', need=S(10, 0))
def _():
    "Masks in their weights' layout (channels-last): one fused multiply, not one kernel per tensor."
    t = Trainer(get_model(NET), synthetic()[0], preset('fast', batch_size=BS[1]), mask=prune(get_model(NET), 0.8, 'global'),
                progress=False, plan=replace(plan_step(preset('fast'), device_caps(DEV), True), channels_last=True))
    r = dict(strides_match=all(p.stride() == m.stride() for p, m in t._masked), us_per_call=round(speed.time_apply_mask(t, 300) * 1e6, 2))
    if CUDA:
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CUDA]) as prof: t.apply_mask(); sync()
        r['kernels'] = sum(1 for e in prof.events() if str(getattr(e, 'device_type', '')).endswith('CUDA'))
    check('masks', 'mask strides match channels-last weights', r, r['strides_match'])
    return r

@part('second_gpu', need=S(15, 0))
def _():
    "A trainer on cuda:1 captures its step there, whichever GPU is current."
    if not CUDA or torch.cuda.device_count() < 2: return dict(skipped='needs two GPUs')
    d1 = torch.device('cuda:1')
    data = speed.synthetic(BS[0] * 12, d1)[0]
    t = Trainer(get_model(NET), data, preset('fast', batch_size=BS[0]), progress=False); t.train_epoch(8)
    mid = state(t); t.train_epoch(4); torch.cuda.synchronize(d1)
    r = dict(current=torch.cuda.current_device(), captured=captured(t), trains=not same(mid, state(t)))
    check('second_gpu', 'a trainer on cuda:1 is captured and trains', r, r['captured'] and r['trains'])
    return r

@part('nb_03_train', need=S(35, 0))
def _():
    "03_train's #| cuda cells: the fast preset on all of Fashion-MNIST, 30 epochs, graphed, above 90%."
    data = fmnist(*S((None, None), (2048, 500)))
    t = Trainer(get_model(NET, in_channels=1), data, preset('fast', **S({}, dict(epochs=1, warmup_epochs=0))), progress=False)
    h = t.fit()
    secs = [x['seconds'] for x in h[1:]] or [h[0]['seconds']]
    r = dict(plan=asdict(t.plan), captured=captured(t), epochs=len(h), test_acc=h[-1]['test_acc'], s_per_epoch=round(sum(secs) / len(secs), 3))
    check('nb_03_train', 'fast preset, all of Fashion-MNIST: captured, test acc > 0.9', (r['captured'], r['test_acc']),
          r['captured'] == t.plan.graphs and (r['test_acc'] > 0.9 or A.smoke))
    return r

@part('nb_03a_together', need=S(25, 0))
def _():
    "03a_together's #| cuda cell: ticket, re-init and random ResNet-20 together, the ticket within 2 points of alone."
    data = fmnist(S(10_000, 1024), S(2000, 200))
    r0 = get_model(NET, in_channels=1); m = prune(r0, 0.8, 'global'); rm = random_mask(m, 2)
    starts = [extract_ticket(r0.state_dict(), mask=m)[0], extract_ticket(reinit_state(dict(name=NET, in_channels=1), 1), mask=m)[0],
              extract_ticket(r0.state_dict(), mask=rm)[0]]
    nets = [get_model(NET, in_channels=1) for _ in starts]
    for n, sd in zip(nets, starts): n.load_state_dict(sd)
    c = preset('fast', **S(dict(epochs=4, warmup_epochs=1), dict(epochs=1, warmup_epochs=0, batch_size=128)))
    alone = get_model(NET, in_channels=1); alone.load_state_dict(starts[0])
    one = Trainer(alone, data, c, mask=m, progress=False); one.fit()
    three = TogetherTrainer(nets, data, c, masks=[m, m, rm], progress=False); three.fit()
    a1, a3 = one.history[-1]['test_acc'], three.histories[0][-1]['test_acc']
    r = dict(captured=captured(three), alone=a1, together=a3)
    check('nb_03a_together', 'together: captured, the ticket within 0.02 of alone', r, r['captured'] == three.plan.graphs and abs(a1 - a3) < 0.02)
    return r

@part('study', need=S(70, 0))
def _():
    "A 10-round ResNet-20 IMP study (ticket, re-init, random) at 3 epochs a unit, timed; 30 epochs extrapolated from it."
    from lottery_nb.config import ImpConfig
    from lottery_nb.runs import ImpRun
    epochs = S(3, 1)
    cfg = ImpConfig(dataset='fashion_mnist', model=NET, preset='fast', rounds=S(10, 2), fraction=0.2,
                    train=dict(epochs=epochs, warmup_epochs=0, **S({}, dict(n_train=512, n_test=200))))
    out = Path(tempfile.mkdtemp())/'study'
    t0 = time.perf_counter(); run = ImpRun(out, cfg, device=DEV, progress=False).run(); wall = time.perf_counter() - t0
    train = sum(max(run.metrics(l, v)['seconds'] for v in run.variants(l)) for l in cfg.levels())
    r = dict(rounds=cfg.rounds, epochs=epochs, together=run.trains_together(), wall_s=round(wall, 1), training_s=round(train, 1),
             est_30_epochs_min=round((wall - train + train * 30 / epochs) / 60, 1), last_level=run.metrics(cfg.rounds, 'ticket')['test_acc'])
    check('study', '10-round ResNet-20 study at 30 epochs < 15 min (from 3 epochs)', f"{r['est_30_epochs_min']} min",
          r['est_30_epochs_min'] < 15 if not A.smoke else None)
    return r

@part('compile', need=S(100, 0))
def _():
    "torch.compile with the step captured, at the fast preset's batch."
    t = Trainer(get_model(NET), synthetic()[0], preset('fast', batch_size=BS[1], compile=True), progress=False)
    t0 = time.perf_counter(); t.train_epoch(S(10, 2)); sync(); first = time.perf_counter() - t0
    x = speed.time_trainer(t, STEPS, WARM)
    r = dict(compiled=t.fwd is not t.model, captured=captured(t), first_steps_s=round(first, 1), images_per_second=round(x['images_per_second']))
    check('compile', 'compiled and captured (images/s)', r['images_per_second'], r['compiled'] or not t.plan.compile)
    return r

# ---------------------------------------------------------------------------------------------------------------------
R['seconds'] = round(time.perf_counter() - T0, 1)
R['checks'] = [dict(part=p_, check=w, measured=m, holds=h) for p_, w, m, h in CHECKS]
save()
print(f"\n==== {R['device']}, torch {R['torch']}{' (smoke: figures meaningless)' if A.smoke else ''} ====")
print(f"{'part':<16} {'check':<70} {'measured':<34} holds")
for p_, w, m, h in CHECKS:
    print(f"{p_:<16} {w[:70]:<70} {json.dumps(m, default=str)[:34]:<34} {'yes' if h else 'n/a' if h is None else 'NO'}")
skipped = [k for k, v in R['parts'].items() if 'skipped' in v]
failed = [k for k, v in R['parts'].items() if 'error' in v]
print(f"{len(CHECKS)} checks, {sum(h is False for *_, h in CHECKS)} do not hold; parts failed: {', '.join(failed) or 'none'}; "
      f"skipped: {', '.join(skipped) or 'none'}; {R['seconds']} s; written to {OUT}")
sys.exit(1 if failed else 0)
