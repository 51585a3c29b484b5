"The papers' protocols: training length in iterations, evaluation every N iterations with a validation split, Adam, Glorot init, per-layer rates."
import pytest
import torch
from lottery_nb.core import LotteryError
from lottery_nb.data import get_data
from lottery_nb.models import get_model
from lottery_nb.train import Trainer, preset, LambdaCallback, early_stop, train_length
from lottery_nb.runs import ImpRun
from lottery_nb.config import protocol

@pytest.fixture(scope='module')
def fm(fmnist_dir): return get_data('fashion_mnist', fmnist_dir, 'cpu', n_train=1200, n_test=500, n_val=600)

def lenet(): return get_model('lenet300_100', in_channels=1, img_size=28, init='glorot_normal', seed=0)

@pytest.mark.parametrize('optimizer', ['sgd', 'adam'])
def test_a_training_stopped_mid_way_resumes_bitwise_with_records_inside_epochs(fm, optimizer):
    "Iterations that end mid-epoch, records every N iterations across epoch ends: stopped after an epoch and resumed, the same weights and history."
    cfg = preset('lth_lenet', iterations=53, eval_every=7, eval_at=(10,), batch_size=60, optimizer=optimizer, lr=1e-3, bf16=False)
    whole = Trainer(lenet(), fm, cfg, progress=False); whole.fit()
    assert whole.iteration == train_length(cfg, whole.iters_per_epoch) == 53 and whole.iters_per_epoch == 20
    assert [h['iteration'] for h in whole.history] == [7, 10, 14, 21, 28, 35, 42, 49, 53]
    first = Trainer(lenet(), fm, cfg, progress=False, cbs=[LambdaCallback(after_epoch=lambda t: setattr(t, 'stop', True))])
    first.fit()
    second = Trainer(lenet(), fm, cfg, progress=False)
    second.load_state_dict(first.state_dict()); second.fit()
    assert all(torch.equal(a, b) for a, b in zip(whole.model.state_dict().values(), second.model.state_dict().values()))
    strip = lambda hs: [{k: v for k, v in h.items() if k != 'seconds'} for h in hs]
    assert strip(second.history) == strip(whole.history)

def test_the_validation_split_decides_the_early_stop_iteration(fm):
    t = Trainer(lenet(), fm, preset('lth_lenet', iterations=100, eval_every=20, batch_size=60), progress=False)
    t.fit()
    es = early_stop(t.history)
    assert es['val_loss'] == min(h['val_loss'] for h in t.history) and es['iteration'] in range(20, 101, 20)
    assert len(fm.val) == 600 and len(fm.train) == 1200

def test_a_study_under_the_lth_lenet_protocol_writes_early_stop_and_accuracy_at(tmp_path, fmnist_dir):
    cfg = protocol('lth_lenet', rounds=1, controls=('reinit',), layer_rates={'fc2.weight': 0.5},
                   train=dict(iterations=120, eval_every=40, eval_at=(60,), n_train=1200, n_test=500, n_val=600))
    run = ImpRun(tmp_path/'lth', cfg, data_dir=fmnist_dir, device='cpu', progress=False).run()
    m = run.metrics(1, 'ticket')
    assert set(m['early_stop']) == {'iteration', 'val_loss', 'val_acc', 'test_acc'} and list(m['test_acc_at']) == ['60']
    dens = {k: float(v.float().mean()) for k, v in run.mask(1).items()}
    assert dens == pytest.approx({'fc1.weight': 0.8, 'fc2.weight': 0.5, 'fc.weight': 0.9}, abs=1e-4)
    theta0 = run.tensors(run.layout.theta_0())['fc1.weight']
    assert theta0.std().item() == pytest.approx((2 / (784 + 300)) ** 0.5, rel=0.02)   # Glorot, as the paper

def test_bad_protocol_settings_are_one_clear_error():
    for kw, says in [(dict(optimizer='lbfgs'), 'optimizer must be one of'), (dict(eval_every=0), 'eval_every must be at least 1'),
                     (dict(eval_at=(0,)), 'eval_at must be iterations'), (dict(n_val=-1), 'n_val must be >= 0')]:
        with pytest.raises(LotteryError, match=says): preset('lth_lenet', **kw)
