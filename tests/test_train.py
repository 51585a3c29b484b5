"Properties of lottery_nb.train: real training works, masks hold, presets are the literature's, stopping loses nothing."
import math
import pytest
import torch
from lottery_nb.core import LotteryError
from lottery_nb.data import get_data
from lottery_nb.models import get_model
from lottery_nb.train import Trainer, preset, lr_factor, LambdaCallback, fit, save_checkpoint, load_checkpoint

@pytest.fixture(scope='module')
def fmnist(fmnist_dir):
    return get_data('fashion_mnist', root=fmnist_dir, device='cpu')

def lenet(seed=0): return get_model('lenet300_100', in_channels=1, img_size=28, seed=seed)

def test_lenet_reaches_85_percent_on_genuine_fashion_mnist_in_3_epochs(fmnist):
    hist = fit(lenet(), fmnist, preset('fast', epochs=3, batch_size=128, lr=0.1, warmup_epochs=0, augment=False), progress=False)
    print('LeNet-300-100 test accuracy per epoch:', [round(h['test_acc'], 4) for h in hist])
    assert hist[-1]['test_acc'] >= 0.85
    assert set(hist[0]) >= {'epoch', 'train_loss', 'test_loss', 'test_acc', 'seconds'}

def test_resnet20_lowers_its_loss_on_a_fashion_mnist_subset(fmnist_dir):
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=1024, n_test=500)
    hist = fit(get_model('resnet20', in_channels=1), data, preset('workshop', epochs=3, n_train=None, n_test=None), progress=False)
    losses = [h['train_loss'] for h in hist]
    print('ResNet-20 train loss per epoch:', losses)
    assert losses[-1] < losses[0] and losses[-1] < math.log(10)

def test_masked_weights_stay_exactly_zero_through_momentum_and_weight_decay(fmnist_dir):
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=1024, n_test=256)
    net = get_model('resnet20', in_channels=1)
    g = torch.Generator().manual_seed(0)
    mask = {n: torch.rand(p.shape, generator=g) < 0.3 for n, p in net.named_parameters() if p.dim() > 1}
    Trainer(net, data, preset('workshop', epochs=2, n_train=None, n_test=None, weight_decay=1e-2), mask=mask, progress=False).fit()
    for n, p in net.named_parameters():
        if n in mask:
            assert (p[~mask[n]] == 0).all(), f'{n}: a pruned weight moved'
            assert (p[mask[n]] != 0).float().mean() > 0.99, f'{n}: kept weights train'

def test_a_mask_that_does_not_fit_is_refused(fmnist_dir):
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=256, n_test=64)
    with pytest.raises(LotteryError, match='mask does not fit'):
        Trainer(lenet(), data, preset('workshop'), mask={'fc1.weight': torch.ones(3, 3, dtype=torch.bool)})

def test_presets_are_as_documented():
    p = preset('paper')
    assert (p.batch_size, p.lr, p.momentum, p.weight_decay, p.epochs, p.milestones, p.gamma) == (128, 0.1, 0.9, 1e-4, 160, (80, 120), 0.1)
    w = preset('workshop')
    assert w.n_train is not None and w.epochs <= 5
    assert preset('paper', warmup_epochs=5).warmup_epochs == 5, 'optional linear warm-up'

def test_lr_schedule_steps_at_the_milestones():
    c, ipe = preset('paper'), 391
    lrs = [c.lr * lr_factor(c, e * ipe, ipe) for e in (0, 79, 80, 119, 120, 159)]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    w = preset('paper', warmup_epochs=2)
    assert lr_factor(w, 0, ipe) == pytest.approx(1 / (2 * ipe)) and lr_factor(w, 2 * ipe, ipe) == 1

def test_callbacks_see_every_step_and_epoch_and_can_stop(fmnist_dir):
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=640, n_test=64)
    steps, epochs = [], []
    def stop_after_2(t):
        epochs.append(t.epoch); t.stop = t.epoch == 2
    t = Trainer(lenet(), data, preset('workshop', epochs=5, n_train=None, n_test=None, batch_size=64), progress=False,
                cbs=[LambdaCallback(after_step=lambda t: steps.append(t.iteration), after_epoch=stop_after_2)])
    hist = t.fit()
    assert epochs == [1, 2] and len(hist) == 2 and steps == list(range(1, 21))

def test_resuming_from_saved_state_gives_the_uninterrupted_result(fmnist_dir, tmp_path):
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=2048, n_test=256)
    cfg = preset('fast', epochs=3, batch_size=128, lr=0.1, warmup_epochs=1)
    straight = Trainer(lenet(1), data, cfg, progress=False); straight.fit()
    first = Trainer(lenet(1), data, cfg, progress=False, cbs=[LambdaCallback(after_epoch=lambda t: setattr(t, 'stop', True))])
    first.fit()
    torch.save(first.state_dict(), tmp_path/'s.pt')
    second = Trainer(lenet(1), data, cfg, progress=False)
    second.load_state_dict(torch.load(tmp_path/'s.pt', weights_only=False))
    second.fit()
    assert second.history == [dict(h, seconds=s['seconds']) for h, s in zip(straight.history, second.history)]
    assert all(torch.equal(a, b) for a, b in zip(straight.model.state_dict().values(), second.model.state_dict().values()))

def test_checkpoints_round_trip_and_corrupt_ones_fail_clearly(tmp_path):
    m = lenet(2)
    save_checkpoint(tmp_path/'c.pth.tar', m, dict(name='lenet300_100', in_channels=1, img_size=28), epoch=0)
    ck = load_checkpoint(tmp_path/'c.pth.tar')
    assert ck['arch'] == 'lenet300_100' and torch.equal(ck['state_dict']['fc.weight'], m.fc.weight.detach())
    (tmp_path/'bad.pth.tar').write_bytes((tmp_path/'c.pth.tar').read_bytes()[:1000])
    with pytest.raises(LotteryError, match='bad.pth.tar'): load_checkpoint(tmp_path/'bad.pth.tar')
    with pytest.raises(LotteryError, match='does not exist'): load_checkpoint(tmp_path/'none.pth.tar')
