"Properties of lottery_nb.data that users rely on: genuine files parse right, bad files fail clearly, batches are reproducible."
import gzip, shutil
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from lottery_nb.core import LotteryError
from lottery_nb.data import get_data, load_split, random_crop, random_flip, get_spec, find_files

def test_cifar10_parses_the_genuine_pickled_batches(cifar_dir):
    root, written = cifar_dir
    data = get_data('cifar10', root=root, device='cpu')
    assert len(data.train) == 100 and len(data.test) == 20
    assert data.train.x.dtype == torch.uint8 and data.train.x.shape == (100, 3, 32, 32)
    # image 3 of data_batch_2 is row 3 of that pickle: red plane, then green, then blue, each 32x32 row-major
    raw, labels = written['data_batch_2']
    assert np.array_equal(data.train.x[20 + 3].numpy().reshape(-1), raw[3])
    assert data.train.y[20:40].tolist() == labels
    assert data.test.y.tolist() == written['test_batch'][1]

def test_cifar10_root_may_be_the_batches_folder_itself(cifar_dir):
    root, _ = cifar_dir
    x, _ = load_split('cifar10', 'test', root=root/'cifar-10-batches-py')
    assert x.shape == (20, 3, 32, 32)

def test_truncated_cifar_batch_names_the_file(cifar_dir):
    root, _ = cifar_dir
    f = root/'cifar-10-batches-py'/'data_batch_3'
    f.write_bytes(f.read_bytes()[:500])
    with pytest.raises(LotteryError, match='data_batch_3'): get_data('cifar10', root=root, device='cpu')

def test_missing_dataset_says_where_it_looked_and_how_to_get_it(tmp_path):
    with pytest.raises(LotteryError) as e: get_data('cifar10', root=tmp_path, device='cpu')
    msg = str(e.value)
    assert str(tmp_path) in msg and 'data_batch_1' in msg and 'test_batch' in msg and 'download' in msg
    with pytest.raises(LotteryError) as e: load_split('fashion_mnist', root=tmp_path)
    assert 'train-images-idx3-ubyte' in str(e.value) and 'apt-get install dataset-fashion-mnist' in str(e.value)

def test_nothing_is_downloaded_unless_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path); monkeypatch.delenv('LOTTERY_NB_DATA', raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path/'cache'))
    with pytest.raises(LotteryError): load_split('mnist')
    assert list(tmp_path.iterdir()) == [], 'a failed load writes nothing, in the cache or here'

def test_genuine_fashion_mnist(fmnist_dir):
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu')
    assert data.train.x.shape == (60000, 1, 28, 28) and data.test.x.shape == (10000, 1, 28, 28)
    assert torch.bincount(data.test.y).tolist() == [1000] * 10
    assert data.train.x.dtype == torch.uint8

def test_fashion_mnist_is_found_in_torchvisions_layout_uncompressed(fmnist_dir, tmp_path):
    raw = tmp_path/'FashionMNIST'/'raw'; raw.mkdir(parents=True)
    for f in fmnist_dir.glob('*.gz'): (raw/f.stem).write_bytes(gzip.decompress(f.read_bytes()))
    a, b = load_split('fashion_mnist', 'test', root=tmp_path), load_split('fashion_mnist', 'test', root=fmnist_dir)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])

@pytest.mark.parametrize('damage', ['truncate', 'not_gzip', 'bad_magic'])
def test_corrupt_idx_fails_with_the_files_name(fmnist_dir, tmp_path, damage):
    for f in fmnist_dir.glob('*.gz'): shutil.copy(f, tmp_path)
    f = tmp_path/'t10k-images-idx3-ubyte.gz'
    raw = gzip.decompress(f.read_bytes())
    if damage == 'truncate': f.write_bytes(gzip.compress(raw[:-100]))
    if damage == 'not_gzip': f.write_bytes(b'<html>404</html>')
    if damage == 'bad_magic': f.write_bytes(gzip.compress(b'\x01\x02' + raw[2:]))
    with pytest.raises(LotteryError, match='t10k-images-idx3-ubyte'): load_split('fashion_mnist', 'test', root=tmp_path)

def test_subsets_are_seeded(fmnist_dir):
    a = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=500, n_test=100)
    b = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=500, n_test=100)
    c = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=500, n_test=100, subset_seed=1)
    assert len(a.train) == 500 and len(a.test) == 100
    assert torch.equal(a.train.y, b.train.y) and not torch.equal(a.train.y, c.train.y)

@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 3), st.integers(4, 12), st.integers(0, 4), st.integers(0, 2**31))
def test_random_crop_is_a_window_of_the_zero_padded_image(b, c, hw, pad, seed):
    x = torch.randint(1, 256, (b, c, hw, hw), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))
    out = random_crop(x, pad, torch.Generator().manual_seed(seed))
    assert out.shape == x.shape and out.dtype == x.dtype
    padded = torch.nn.functional.pad(x, (pad,) * 4)
    for i in range(b):
        windows = [padded[i, :, dy:dy+hw, dx:dx+hw] for dy in range(2*pad+1) for dx in range(2*pad+1)]
        assert any(torch.equal(out[i], w) for w in windows), 'each output is one window of its own padded image'

def test_augmentation_is_per_sample_and_reproducible(cifar_dir):
    root, _ = cifar_dir
    data = get_data('cifar10', root=root, device='cpu')
    x = data.train.x
    a = data.train.augment(x, torch.Generator().manual_seed(5))
    b = data.train.augment(x, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    flips = random_flip(x, torch.Generator().manual_seed(1))
    mirrored = (flips == x.flip(3)).flatten(1).all(1)
    assert 0 < mirrored.sum() < len(x), 'flips are drawn per image, not per batch'

def test_batches_cover_the_split_and_are_normalised(cifar_dir):
    root, _ = cifar_dir
    data = get_data('cifar10', root=root, device='cpu')
    seen = torch.cat([yb for _, yb in data.train.batches(32, shuffle=True, generator=torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == sorted(data.train.y.tolist()), 'one pass visits every image once'
    xb, _ = next(data.train.batches(100))
    spec = get_spec('cifar10')
    expect = (data.train.x[:100].float() / 255 - torch.tensor(spec.mean).view(1, 3, 1, 1)) / torch.tensor(spec.std).view(1, 3, 1, 1)
    assert torch.allclose(xb, expect)
    assert sum(1 for _ in data.train.batches(32, drop_last=True)) == 100 // 32

@pytest.mark.parametrize('name', ['cifar10', 'mnist'])
def test_ready_batches_are_the_augmented_batches_of_the_split_value_for_value(name, cifar_dir, tmp_path):
    "What a step trains on (normalised once, padded, channels-last, cropped and mirrored in one gather) is the documented augmentation."
    if name == 'cifar10': data = get_data('cifar10', root=cifar_dir[0], device='cpu')
    else:   # MNIST's digits are not mirrored: a dataset without flips draws no flips
        from lottery_nb.data import Data, Split
        spec, g = get_spec('mnist'), torch.Generator().manual_seed(0)
        x, y = torch.randint(0, 256, (70, 1, 28, 28), dtype=torch.uint8, generator=g), torch.randint(0, 10, (70,), generator=g)
        data = Data(spec, Split(x, y, spec), Split(x[:10], y[:10], spec))
    ready = data.train.ready(torch.float32, pad=4)
    assert data.train.ready(torch.float32, pad=4) is ready
    g, g_ref = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    order = torch.randperm(len(data.train), generator=g_ref)
    got = list(ready.batches(16, shuffle=True, augment=True, generator=g, drop_last=True, channels_last=True))
    for i, (xb, yb) in enumerate(got):
        idx = order[i*16:(i+1)*16]
        assert torch.equal(xb, data.train.normalize(data.train.augment(data.train.x[idx], g_ref)))
        assert torch.equal(yb, data.train.y[idx]) and xb.is_contiguous(memory_format=torch.channels_last)
    assert g.get_state().equal(g_ref.get_state()), 'the same draws, in the same order'
    xb16, _ = next(data.train.ready(torch.bfloat16, pad=4).batches(16, shuffle=True, augment=True, generator=torch.Generator().manual_seed(3)))
    assert xb16.dtype == torch.bfloat16 and torch.equal(xb16, got[0][0].to(torch.bfloat16))
    plain, _ = next(data.train.ready(torch.float32, pad=4).batches(16))
    assert torch.equal(plain, data.train.normalize(data.train.x[:16])), 'without augmentation: the centre, as it is'
    with pytest.raises(LotteryError, match='padded'): next(data.train.ready().batches(16, augment=True))

def test_a_dataset_fetched_once_is_found_from_any_folder(fmnist_dir, tmp_path, monkeypatch):
    "What --download fetched (into the cache, in torchvision's layout) is found wherever lottery_nb runs next."
    monkeypatch.delenv('LOTTERY_NB_DATA', raising=False); monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path/'cache'))
    raw = tmp_path/'cache'/'lottery_nb'/'FashionMNIST'/'raw'; raw.mkdir(parents=True)
    for f in fmnist_dir.glob('*.gz'): shutil.copy(f, raw)
    (tmp_path/'elsewhere').mkdir(); monkeypatch.chdir(tmp_path/'elsewhere')
    assert find_files(get_spec('fashion_mnist'))['test'][0].parent == raw
