"""The ordinary PyTorch pipeline that lottery_nb is measured against, written the way OpenLTH and Distiller train:
a torchvision CIFAR10-style Dataset of uint8 HWC arrays, per-sample PIL transforms (RandomCrop(32, padding=4),
RandomHorizontalFlip, ToTensor, Normalize) in DataLoader worker processes, float32, plain SGD with MultiStepLR."""
import time
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import transforms as T
from torchvision.datasets import CIFAR10, VisionDataset

class ArrayDataset(VisionDataset):
    "torchvision's CIFAR10 item code over arrays in memory: `data` (N, H, W[, C]) uint8, `targets` a list of ints."
    __getitem__, __len__ = CIFAR10.__getitem__, CIFAR10.__len__
    def __init__(self, data:np.ndarray, targets, transform=None):
        super().__init__('.', transform=transform)
        self.data, self.targets = data, [int(t) for t in targets]

def train_transform(size:int, mean, std):
    return T.Compose([T.RandomCrop(size, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(mean, std)])

def test_transform(mean, std): return T.Compose([T.ToTensor(), T.Normalize(mean, std)])

def loader(ds, bs:int, workers:int, shuffle:bool, device) -> DataLoader:
    return DataLoader(ds, batch_size=bs, shuffle=shuffle, num_workers=workers, pin_memory=device.type == 'cuda',
                      drop_last=shuffle, persistent_workers=workers > 0)

def sgd(model, lr=0.1, momentum=0.9, weight_decay=1e-4):
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)

def step(model, opt, x, y, device):
    "One ordinary float32 training step."
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
    return loss

def time_steps(model, dl, device, steps:int, warmup:int) -> float:
    "Seconds per training step over `steps` steps after `warmup` untimed ones (data loading included)."
    model.to(device).train()
    opt, it = sgd(model), iter(dl)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    for _ in range(warmup): step(model, opt, *next(it), device)
    sync(); t0 = time.perf_counter()
    for _ in range(steps): step(model, opt, *next(it), device)
    sync()
    return (time.perf_counter() - t0) / steps

@torch.no_grad()
def accuracy(model, dl, device) -> float:
    model.eval(); correct = n = 0
    for x, y in dl:
        correct += (model(x.to(device)).argmax(1).cpu() == y).sum().item(); n += len(y)
    model.train()
    return correct / n

def fit(model, train_ds, test_ds, epochs:int, device, bs:int=128, workers:int=4, lr=0.1, milestones=(0.5, 0.75)) -> list[float]:
    "Train as the research code does (the `paper` schedule: lr x0.1 at half and three quarters of `epochs`); test accuracy per epoch."
    model.to(device).train()
    opt = sgd(model, lr)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [round(m * epochs) for m in milestones], 0.1)
    dl, tl = loader(train_ds, bs, workers, True, device), loader(test_ds, 1000, workers, False, device)
    accs = []
    for _ in range(epochs):
        for x, y in dl: step(model, opt, x, y, device)
        sched.step()
        accs.append(accuracy(model, tl, device))
    return accs
