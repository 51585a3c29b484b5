"Properties of lottery_nb.together: networks trained together end where they would alone, keep their masks, resume exactly, and a study trained together is a study like any other."
import copy, subprocess
from dataclasses import replace
import pytest
import torch
from lottery_nb.core import LotteryError
from lottery_nb.data import get_data
from lottery_nb.models import get_model
from lottery_nb.train import Trainer, preset, LambdaCallback, StepPlan, count_ops
from lottery_nb.masks import prune, random_mask
from lottery_nb.together import Fused, TogetherTrainer, train_together
from lottery_nb.runs import ImpRun, EpochDone
from lottery_nb.config import ImpConfig

def lenet(seed=0): return get_model('lenet300_100', in_channels=1, img_size=28, seed=seed)

@pytest.fixture(scope='module')
def small(fmnist_dir): return get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=2048, n_test=500)

CFG = dict(epochs=1, n_train=None, n_test=None, bf16=False, warmup_epochs=0)   # float32: a tight comparison

# Only the order of float additions differs, and other CPUs' kernels order them otherwise: in fp32 a weight moves ~1e-7;
# in bf16, where another order can flip a product's rounding (2^-8 of it), more (6e-6 measured on a Xeon with AMX, over
# 1e-5 on CI's). A bug moves weights further: a learning rate 1% off by 1.4e-2, masks swapped by 0.44 (both measured).
@pytest.mark.parametrize('precision, tol', [('fp32', 1e-5), ('bf16', 1e-3)])
def test_each_network_trained_together_ends_where_it_would_alone(small, precision, tol):
    nets = [lenet(s) for s in range(3)]
    masks = [prune(nets[0], 0.7, 'global'), None, prune(nets[2], 0.5, 'layerwise')]
    alone, plan = [], StepPlan(precision)
    for n, m in zip(nets, masks):
        t = Trainer(copy.deepcopy(n), small, preset('workshop', **CFG), mask=m, progress=False, plan=plan); t.fit()
        alone.append((t.model.state_dict(), t.history))
    together = train_together([copy.deepcopy(n) for n in nets], small, preset('workshop', **CFG), masks=masks, progress=False, plan=plan)
    for (wa, ha), (wt, ht) in zip(alone, together):
        assert list(wa) == list(wt)
        worst = max((wa[k] - wt[k]).abs().max().item() for k in wa)
        assert worst <= tol, worst
        assert abs(ha[-1]['test_acc'] - ht[-1]['test_acc']) <= 0.004
    for (wt, _), m in zip(together, masks):
        for k, keep in (m or {}).items(): assert (wt[k][~keep] == 0).all(), f'{k}: a pruned weight moved'

def test_resnets_with_batchnorm_train_together_with_their_own_running_statistics(fmnist_dir):
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=256, n_test=128)
    nets = [get_model('resnet20', in_channels=1, seed=s) for s in range(2)]
    cfg = preset('workshop', epochs=1, n_train=None, n_test=None, bf16=False, batch_size=64)
    t = Trainer(copy.deepcopy(nets[1]), data, cfg, progress=False); t.fit()
    res = train_together(nets, data, cfg, progress=False)
    assert torch.allclose(res[1][0]['bn1.running_mean'], t.model.bn1.running_mean, atol=1e-4)
    assert not torch.allclose(res[0][0]['bn1.running_mean'], res[1][0]['bn1.running_mean'])
    assert res[1][0]['bn1.num_batches_tracked'] == t.model.bn1.num_batches_tracked

def test_training_together_resumes_exactly(small):
    cfg = preset('workshop', epochs=2, n_train=None, n_test=None)
    nets = [lenet(s) for s in range(2)]
    whole = TogetherTrainer([copy.deepcopy(n) for n in nets], small, cfg, progress=False); whole.fit()
    first = TogetherTrainer([copy.deepcopy(n) for n in nets], small, cfg, progress=False)
    first.cbs.append(LambdaCallback(after_epoch=lambda t: setattr(t, 'stop', True)))
    first.fit()
    second = TogetherTrainer([lenet(9), lenet(9)], small, cfg, progress=False)
    second.load_state_dict(first.state_dict()); second.fit()
    assert all(torch.equal(whole.member_state(i)[k], second.member_state(i)[k]) for i in range(2) for k in whole.member_state(i))
    drop = lambda h: [{k: v for k, v in e.items() if k != 'seconds'} for e in h]
    assert [drop(h) for h in whole.histories] == [drop(h) for h in second.histories]

def test_networks_of_other_shapes_or_misfit_masks_are_refused():
    with pytest.raises(LotteryError, match='not the architecture'): Fused([lenet(), get_model('lenet300_100', in_channels=1, img_size=28, hidden=(100, 50))])
    st = Fused([lenet(), lenet(1)])
    with pytest.raises(LotteryError, match='do not have'): st.stack_masks([{'conv9.weight': torch.ones(3, dtype=torch.bool)}, None])
    with pytest.raises(LotteryError, match='another shape'): st.stack_masks([{'fc1.weight': torch.ones(3, 3, dtype=torch.bool)}, None])
    with pytest.raises(LotteryError, match='2 networks'): st.stack_masks([None])

def test_a_study_trained_together_matches_one_trained_apart_and_resumes(tmp_path, fmnist_dir):
    cfg = ImpConfig(rounds=2, train=dict(epochs=2, n_train=2000, n_test=500, bf16=False), controls=('reinit', 'random'))
    apart = ImpRun(tmp_path/'apart', cfg, data_dir=fmnist_dir, device='cpu', progress=False, together=False).run()
    tog = ImpRun(tmp_path/'tog', cfg, data_dir=fmnist_dir, device='cpu', progress=False, together=True)
    tog.run(on_event=lambda e: tog.stop() if isinstance(e, EpochDone) and (e.level, e.variants) == (2, ('ticket', 'reinit', 'random')) else None)
    assert (tmp_path/'tog'/'level_02'/'together.safetensors').exists() and not tog.is_done(2, 'ticket')
    seen = []
    ImpRun(tmp_path/'tog', None, data_dir=fmnist_dir, device='cpu', progress=False, together=True).run(on_unit=lambda m: seen.append(m['variant']))
    assert seen == ['ticket', 'reinit', 'random'] and not (tmp_path/'tog'/'level_02'/'together.safetensors').exists()
    for l, v in apart.units():   # the dense network and level 1 train from the same weights and masks: only rounding apart
        if l <= 1: assert abs(apart.metrics(l, v)['test_acc'] - tog.metrics(l, v)['test_acc']) <= 0.005, (l, v)
    # level 2 is pruned from weights that rounding, magnified over a training, moved (how far depends on the CPU)
    same = sum((a == b).sum().item() for a, b in zip(apart.mask(2).values(), tog.mask(2).values()))
    assert same / sum(m.numel() for m in apart.mask(2).values()) > 0.99
    assert tog.metrics(1, 'random')['trained_with'] == ['ticket', 'reinit', 'random']

def test_imp_command_takes_together_and_apart(tmp_path, fmnist_dir):
    args = ['lottery-nb', 'imp', '--rounds', '1', '--data-dir', str(fmnist_dir), '--device', 'cpu', '--quiet',
            '--set', 'epochs=1', 'n_train=500', 'n_test=200']
    r = subprocess.run([*args, '--together', '--out', str(tmp_path/'t')], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert ImpRun(tmp_path/'t', None).metrics(1, 'reinit')['trained_with'] == ['ticket', 'reinit', 'random']
    r = subprocess.run([*args, '--apart', '--out', str(tmp_path/'a')], capture_output=True, text=True)
    assert r.returncode == 0 and 'trained_with' not in ImpRun(tmp_path/'a', None).metrics(1, 'reinit')
    r = subprocess.run([*args, '--apart', '--together', '--out', str(tmp_path/'x')], capture_output=True, text=True)
    assert r.returncode == 2 and not (tmp_path/'x').exists()

def worst(a:dict, b:dict) -> float: return max((a[k].float() - b[k].float()).abs().max().item() for k in b)

@pytest.mark.parametrize('precision, channels_last', [('fp32', True), ('bf16', True), ('fp32', False)])
def test_fused_resnets_take_their_first_step_as_each_would_alone(fmnist_dir, precision, channels_last):
    "Grouped convolutions, batch norm over K*C channels and batched linears: each network's weights, mask, statistics and gradients its own."
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=64, n_test=64)
    nets = [get_model('resnet20', in_channels=1, seed=s) for s in range(3)]
    ticket = prune(nets[0], 0.8, 'global'); masks = [ticket, random_mask(ticket, 1), None]
    cfg = preset('workshop', epochs=1, batch_size=64, n_train=None, n_test=None)
    def alone(plan):
        ts = [Trainer(copy.deepcopy(n), data, cfg, mask=m, progress=False, plan=plan) for n, m in zip(nets, masks)]
        for t in ts: t.fit()
        return [t.model.state_dict() for t in ts]
    plan = StepPlan(precision, channels_last=channels_last)
    each = alone(plan)
    if channels_last: tol = {'fp32': 1e-5, 'bf16': 1e-3}[precision]   # the fused layers run alone's kernels, group by group
    else:   # NCHW runs a grouped convolution's kernel, not alone's, on a step ill-conditioned enough (fp32's gradients are
        # up to 1.2% from float64's) that any change of addition order shows: as far as alone moves in the other memory format
        tol = max(worst(a, b) for a, b in zip(each, alone(StepPlan(precision, channels_last=True))))   # 1e-3 measured
    tog = TogetherTrainer([copy.deepcopy(n) for n in nets], data, cfg, masks=masks, progress=False, plan=plan); tog.fit()
    for i, (theirs, m) in enumerate(zip(each, masks)):
        mine = tog.member_state(i)
        assert list(mine) == list(theirs)
        assert worst(mine, theirs) < tol, (i, worst(mine, theirs), tol)
        assert mine['layer3.2.bn2.num_batches_tracked'] == 1
        for k, keep in (m or {}).items(): assert (mine[k][~keep] == 0).all(), k

def test_layers_that_cannot_be_fused_are_refused_by_name():
    class Odd(torch.nn.Module):   # its forward mixes the networks' channels outside any layer
        def __init__(self): super().__init__(); self.conv, self.fc = torch.nn.Conv2d(1, 4, 3), torch.nn.Linear(1, 2)
        def forward(self, x): return self.fc(self.conv(x).mean((1, 2, 3))[:, None])
    with pytest.raises(LotteryError, match='cannot be trained together'): Fused([Odd(), Odd()], example=torch.randn(2, 1, 8, 8))
    with pytest.raises(LotteryError, match=r'0 \(LSTM\) has no fused form'): Fused([torch.nn.Sequential(torch.nn.LSTM(3, 3))] * 2)
    bn = torch.nn.BatchNorm2d(3, momentum=None)
    with pytest.raises(LotteryError, match='momentum=None'): Fused([torch.nn.Sequential(bn), torch.nn.Sequential(bn)])

def test_three_fused_networks_cost_the_kernels_of_one(fmnist_dir):
    "Why fusing pays on a GPU, where a small network's step is launch-bound: K networks, about one network's operations."
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=128, n_test=64)
    xb, yb = next(data.train.ready().batches(64))
    counts = []
    for k in (1, 3):
        nets = [get_model('resnet20', in_channels=1, seed=s) for s in range(k)]
        t = (Trainer(nets[0], data, preset('paper', n_train=None), progress=False, plan=StepPlan()) if k == 1 else
             TogetherTrainer(nets, data, preset('paper', n_train=None), progress=False, plan=StepPlan()))
        t.step(xb, yb)
        counts.append(count_ops(t.step, xb, yb))
    assert counts[1] < 1.2 * counts[0], counts

def test_training_together_through_a_graphed_step_is_training_together(small):
    cfg = preset('workshop', epochs=1, n_train=None, n_test=None)
    nets, mask = [lenet(s) for s in range(2)], prune(lenet(0), 0.5, 'global')
    a = TogetherTrainer([copy.deepcopy(n) for n in nets], small, cfg, masks=[mask, None], progress=False, plan=StepPlan()); a.fit()
    b = TogetherTrainer([copy.deepcopy(n) for n in nets], small, cfg, masks=[mask, None], progress=False, plan=StepPlan(graphs=True)); b.fit()
    assert b.step.captured and all(ha == [dict(h, seconds=x["seconds"]) for h, x in zip(hb, ha)] for ha, hb in zip(a.histories, b.histories))
    assert all(torch.equal(a.member_state(i)[k], b.member_state(i)[k]) for i in range(2) for k in a.member_state(i))

@pytest.mark.slow
def test_fused_networks_compile_and_train_as_they_do_eagerly(fmnist_dir):
    "torch.compile (inductor, on this CPU) of the fused model: grouped convolutions, fused batch norm and batched matmuls, in float32 and bf16 channels-last."
    data = get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=64, n_test=128)
    nets = [get_model('resnet20', in_channels=1, seed=s) for s in range(2)]
    x = data.train.ready().x[:8].permute(0, 3, 1, 2).contiguous()
    fused = Fused([copy.deepcopy(n) for n in nets]).train()
    assert (torch.compile(copy.deepcopy(fused))(x) - fused(x)).abs().max() < 1e-4, 'the compiled forward computes the same'
    cfg = preset('workshop', epochs=1, batch_size=64, n_train=None, n_test=None)
    # one step: inductor's backward sums in another order, which moves ResNet-20's first step by about 1e-3 (a lone network's too)
    for plan, tol in ((StepPlan('fp32'), 1e-2), (StepPlan('bf16', channels_last=True), 5e-2)):
        runs = [TogetherTrainer([copy.deepcopy(n) for n in nets], data, cfg, progress=False, plan=replace(plan, compile=c)) for c in (False, True)]
        for t in runs: t.fit()
        assert runs[1].fwd is not runs[1].model, 'it compiled'
        for i in range(2):
            a, b = runs[0].member_state(i), runs[1].member_state(i)
            assert max((a[k].float() - b[k].float()).abs().max().item() for k in a) < tol, plan
