import pickle
from pathlib import Path
import numpy as np
import pytest

FMNIST_DIR = Path('/usr/share/datasets/fashion-mnist')

@pytest.fixture(scope='session')
def fmnist_dir():
    "The genuine Fashion-MNIST from Debian's dataset-fashion-mnist package (the README's commands install it)."
    if not (FMNIST_DIR/'train-images-idx3-ubyte.gz').exists():
        pytest.fail(f"genuine Fashion-MNIST missing in {FMNIST_DIR}: apt-get install dataset-fashion-mnist")
    return FMNIST_DIR

def write_cifar(root:Path, n_per_batch:int=20, seed:int=0) -> dict:
    "Write a small CIFAR-10 in the genuine on-disk format (cifar-10-batches-py: 5 training batches, a test batch, meta)."
    d = root/'cifar-10-batches-py'; d.mkdir(parents=True, exist_ok=True)
    rng, written = np.random.default_rng(seed), {}
    for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n_per_batch).tolist()
        with open(d/name, 'wb') as f:
            pickle.dump({b'batch_label': name.encode(), b'labels': labels, b'data': data, b'filenames': [b'x.png']*n_per_batch}, f, protocol=2)
        written[name] = (data, labels)
    with open(d/'batches.meta', 'wb') as f:
        pickle.dump({b'label_names': [b'airplane', b'automobile', b'bird', b'cat', b'deer', b'dog', b'frog', b'horse', b'ship', b'truck'],
                     b'num_cases_per_batch': n_per_batch, b'num_vis': 3072}, f, protocol=2)
    return written

@pytest.fixture
def cifar_dir(tmp_path):
    written = write_cifar(tmp_path)
    return tmp_path, written

@pytest.fixture(scope='session')
def small_study(tmp_path_factory, fmnist_dir):
    "A factory: a finished LeNet-300-100 IMP study on a Fashion-MNIST subset, trained for one epoch per unit."
    def make(rounds, fraction, n_train=1500, controls=('reinit', 'random')):
        from lottery_nb.config import ImpConfig
        from lottery_nb.runs import ImpRun
        cfg = ImpConfig(rounds=rounds, fraction=fraction, controls=controls, train=dict(epochs=1, n_train=n_train, n_test=500, augment=False))
        return ImpRun(tmp_path_factory.mktemp('study')/'run', cfg, data_dir=fmnist_dir, device='cpu', progress=False).run()
    return make

@pytest.fixture
def save_as_on_a_gpu():
    "`torch.save` as a GPU machine writes a file: every tensor tagged cuda:0 (so loading it as written needs a GPU)."
    import torch, torch.serialization as ts
    def save(obj, path):
        entry = (0, lambda storage: 'cuda:0', lambda storage, location: None)
        ts._package_registry.insert(0, entry)
        try: torch.save(obj, path)
        finally: ts._package_registry.remove(entry)
    return save
