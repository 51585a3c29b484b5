"""ResNet-20 training speed with lottery_nb's trainer: images per second, seconds per 50,000-image epoch, and what
holding a pruning mask at zero costs per step.

    python benchmarks/epoch_time.py                    # the best device here, the `fast` preset's batch size
    python benchmarks/epoch_time.py --device cpu --steps 20 --batch-size 128

The images are CIFAR-shaped (3x32x32) uint8 noise: the pixels do not change the cost of a step.
Prints the figures and writes them as JSON to benchmarks/results/epoch_time-<device>.json.
"""
import argparse, time
from datetime import date
from pathlib import Path
import torch
from lottery_nb.core import default_device, device_name, save_json
from lottery_nb.data import Data, Split, get_spec
from lottery_nb.models import get_model
from lottery_nb.train import Trainer, preset
from lottery_nb.masks import prune

def synthetic(n, device, seed=0):
    "CIFAR-shaped uint8 noise with random labels, as a `Data` on `device`."
    spec, g = get_spec('cifar10'), torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8)
    y = torch.randint(0, 10, (n,), generator=g)
    return Data(spec, Split(x.to(device), y.to(device), spec), Split(x[:1024].to(device), y[:1024].to(device), spec))

def measure(device, bs, steps, warmup, compile_=False, model='resnet20', sparsity=None):
    "Seconds per step of the trainer (forward, backward, SGD step, augmentation, mask included), and the trainer."
    data = synthetic(bs * max(steps, warmup), device)
    cut = lambda n: Data(data.spec, Split(data.train.x[:n], data.train.y[:n], data.spec), data.test)
    net = get_model(model)
    mask = prune(net, sparsity, 'global') if sparsity else None
    t = Trainer(net, data, preset('fast', batch_size=bs, compile=compile_), mask=mask, progress=False)
    t.data = cut(bs * warmup)  # the trainer's own epoch loop, first untimed on `warmup` batches...
    t.train_epoch()
    t.data = cut(bs * steps)   # ...then timed on `steps` batches
    if device.type == 'cuda': torch.cuda.synchronize()
    t0 = time.perf_counter(); t.train_epoch()
    if device.type == 'cuda': torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps, t

def time_apply_mask(t, reps=200):
    "Seconds per call of the trainer's mask enforcement alone."
    sync = torch.cuda.synchronize if t.device.type == 'cuda' else (lambda: None)
    t.apply_mask(); sync()
    t0 = time.perf_counter()
    for _ in range(reps): t.apply_mask()
    sync()
    return (time.perf_counter() - t0) / reps

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default=None)
    p.add_argument('--batch-size', type=int, default=preset('fast').batch_size)
    p.add_argument('--steps', type=int, default=None, help='timed steps (default: 200 on CUDA, 10 on CPU)')
    p.add_argument('--warmup', type=int, default=None, help='untimed steps first (default: 30 on CUDA, 2 on CPU)')
    p.add_argument('--compile', action='store_true')
    p.add_argument('--out', default='benchmarks/results')
    a = p.parse_args()
    dev = default_device(a.device)
    cuda = dev.type == 'cuda'
    steps, warmup = a.steps or (200 if cuda else 10), a.warmup or (30 if cuda else 2)
    sec, _ = measure(dev, a.batch_size, steps, warmup, a.compile)
    masked_sec, t = measure(dev, a.batch_size, steps, warmup, a.compile, sparsity=0.8)
    mask_call = time_apply_mask(t)
    ips = a.batch_size / sec
    res = dict(date=str(date.today()), device=device_name(dev), torch=torch.__version__, model='resnet20', batch_size=a.batch_size,
               timed_steps=steps, compile=a.compile, images_per_second=round(ips, 1), seconds_per_step=round(sec, 5),
               seconds_per_50k_epoch=round(50_000 / ips, 2),
               masked_seconds_per_step=round(masked_sec, 5), apply_mask_ms=round(mask_call * 1000, 4),
               apply_mask_share_of_step=round(mask_call / sec, 5), data='synthetic CIFAR-shaped uint8 images (pixels do not change the cost)')
    print(f"ResNet-20, batch {a.batch_size}, {steps} timed steps on {res['device']} (torch {torch.__version__}):")
    print(f"  {ips:,.0f} images/s, {sec*1000:.1f} ms/step, {50_000/ips:.1f} s per 50,000-image epoch")
    print(f"  with an 80%-sparse mask held at zero: {masked_sec*1000:.1f} ms/step; enforcing the mask alone takes "
          f"{mask_call*1000:.3f} ms per step ({mask_call/sec:.2%} of a step)")
    print(f"  ({res['data']})")
    path = save_json(res, Path(a.out)/f"epoch_time-{dev.type}.json")
    print(f"  written to {path}")

if __name__ == '__main__': main()
