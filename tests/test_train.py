"Properties of lottery_nb.train: real training works, masks hold, presets are the literature's, stopping loses nothing."
import math, os
import pytest
import torch
from lottery_nb.core import LotteryError
from lottery_nb.data import get_data
from lottery_nb.models import get_model
from dataclasses import replace
from lottery_nb.train import (Trainer, preset, lr_factor, LambdaCallback, fit, save_checkpoint, load_checkpoint, load_train_state, EpochCheckpoint,
                              DeviceCaps, StepPlan, plan_step, device_caps, GraphedStep, EagerGraph, count_ops)
from lottery_nb.masks import AGP

def lenet(seed=0): return get_model('lenet300_100', in_channels=1, img_size=28, seed=seed)

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

def test_checkpoints_round_trip_and_corrupt_ones_fail_clearly(tmp_path):
    m = lenet(2)
    save_checkpoint(tmp_path/'c.pth.tar', m, dict(name='lenet300_100', in_channels=1, img_size=28), epoch=0)
    ck = load_checkpoint(tmp_path/'c.pth.tar')
    assert ck['arch'] == 'lenet300_100' and torch.equal(ck['state_dict']['fc.weight'], m.fc.weight.detach())
    (tmp_path/'bad.pth.tar').write_bytes((tmp_path/'c.pth.tar').read_bytes()[:1000])
    with pytest.raises(LotteryError, match='bad.pth.tar'): load_checkpoint(tmp_path/'bad.pth.tar')
    with pytest.raises(LotteryError, match='does not exist'): load_checkpoint(tmp_path/'none.pth.tar')

def stop_after(n): return LambdaCallback(after_epoch=lambda t: setattr(t, 'stop', t.epoch == n))

@pytest.fixture(scope='module')
def small(fmnist_dir): return get_data('fashion_mnist', root=fmnist_dir, device='cpu', n_train=2048, n_test=256)

def test_a_state_file_resumes_exactly_and_carries_no_code(small, tmp_path):
    cfg = preset('fast', epochs=3, batch_size=128, lr=0.1, warmup_epochs=1)
    straight = Trainer(lenet(1), small, cfg, progress=False); straight.fit()
    first = Trainer(lenet(1), small, cfg, progress=False, cbs=[stop_after(1), EpochCheckpoint(tmp_path/'state.safetensors')]); first.fit()
    from safetensors import safe_open
    with safe_open(str(tmp_path/'state.safetensors'), 'pt') as f: assert set(f.metadata()) == {'format', 'tree'}   # tensors and JSON only
    second = Trainer(lenet(1), small, cfg, progress=False)
    assert second.resume(tmp_path/'state.safetensors'); second.fit()
    assert [h['test_acc'] for h in second.history] == [h['test_acc'] for h in straight.history]
    assert all(torch.equal(a, b) for a, b in zip(straight.model.state_dict().values(), second.model.state_dict().values()))

def test_a_state_pt_written_on_a_gpu_by_lottery_nb_0_1_resumes_on_a_cpu_exactly(small, tmp_path, save_as_on_a_gpu):
    cfg = preset('fast', epochs=3, batch_size=128, lr=0.1, warmup_epochs=1)
    straight = Trainer(lenet(1), small, cfg, progress=False); straight.fit()
    first = Trainer(lenet(1), small, cfg, progress=False, cbs=[stop_after(1)]); first.fit()
    save_as_on_a_gpu(first.state_dict(), tmp_path/'state.pt')
    with pytest.raises(RuntimeError, match='CUDA'): torch.load(tmp_path/'state.pt', weights_only=True)   # as it was written: a GPU's
    second = Trainer(lenet(1), small, cfg, progress=False)
    assert second.resume(tmp_path/'state.safetensors'); second.fit()   # the .pt beside it is found and read weights-only
    assert [h['test_acc'] for h in second.history] == [h['test_acc'] for h in straight.history]
    assert all(torch.equal(a, b) for a, b in zip(straight.model.state_dict().values(), second.model.state_dict().values()))

def test_an_unreadable_state_is_one_clear_error(tmp_path):
    (tmp_path/'state.pt').write_bytes(b'PK\x03\x04 not really')
    with pytest.raises(LotteryError, match='not a readable training state'): load_train_state(tmp_path/'state.pt')
    (tmp_path/'state.safetensors').write_bytes(b'\x08\x00\x00\x00\x00\x00\x00\x00{}')
    with pytest.raises(LotteryError, match='not a readable state file|holds no lottery_nb tree'): load_train_state(tmp_path/'state.safetensors')
    with pytest.raises(LotteryError, match='does not exist'): load_train_state(tmp_path/'none.pt')
    with pytest.raises(LotteryError, match='does not exist'): load_train_state(tmp_path/'none.safetensors')

H100, V100 = DeviceCaps('cuda', bf16=True, graphs=True), DeviceCaps('cuda', bf16=False, graphs=True)

@pytest.mark.parametrize('caps, cfg, conv, plan', [
    (H100, {}, True, StepPlan('bf16', channels_last=True, graphs=True)),
    (H100, {}, False, StepPlan('bf16', graphs=True)),
    (H100, dict(graphs=False, channels_last=False), True, StepPlan('bf16')),
    (V100, {}, True, StepPlan('fp16', channels_last=True, graphs=True)),       # fp16 with a grad scaler, captured too
    (V100, dict(bf16=False), True, StepPlan('fp32', channels_last=True, graphs=True)),
    (DeviceCaps('cpu', bf16=True), {}, True, StepPlan('bf16', channels_last=True)),
    (DeviceCaps('cpu'), {}, True, StepPlan()),
    (DeviceCaps('mps'), {}, True, StepPlan()),
    (DeviceCaps('cpu'), dict(compile=True), True, StepPlan(compile=True)),
    (DeviceCaps('cuda', True, True, 'torch.compile needs Triton on CUDA, and it is not installed'), dict(compile=True), True,
     StepPlan('bf16', channels_last=True, graphs=True)),
])
def test_each_device_gets_the_step_its_hardware_does_best(caps, cfg, conv, plan):
    got = plan_step(preset('fast', **cfg), caps, conv)
    assert replace(got, notes=()) == plan
    assert bool(got.notes) == (caps is V100 and cfg.get('bf16', True) or bool(cfg.get('compile') and caps.compiler))

def test_this_cpu_is_read_as_it_is():
    caps = device_caps(torch.device('cpu'))
    assert caps.type == 'cpu' and not caps.graphs
    assert caps.bf16 == (bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) and os.environ.get('LOTTERY_NB_BF16') != '0')

def test_a_graphed_step_trains_exactly_as_the_plain_step_even_when_the_mask_changes(small):
    "Through GraphedStep (on a CPU its EagerGraph), with AGP pruning mid-training: the lr tensor, the batch copy and the in-place mask."
    cfg = preset('fast', epochs=3, batch_size=128, lr=0.1, warmup_epochs=1)
    runs = []
    for graphs in (False, True):
        t = Trainer(lenet(4), small, cfg, progress=False, plan=StepPlan(graphs=graphs), cbs=[AGP(0.8, first=0, last=2)])
        t.fit(); runs.append(t)
    plain, graphed = runs
    assert isinstance(graphed.step, GraphedStep) and graphed.step.captured
    assert [h['test_acc'] for h in plain.history] == [h['test_acc'] for h in graphed.history]
    assert all(torch.equal(a, b) for a, b in zip(plain.model.state_dict().values(), graphed.model.state_dict().values()))
    for k, keep in graphed.mask.items(): assert (graphed.model.state_dict()[k][~keep] == 0).all(), k

def test_a_capture_that_fails_falls_back_to_plain_steps_with_one_line(small, capsys):
    class Refuses(EagerGraph):
        def capture(self, fn): raise RuntimeError('operation not permitted when stream is capturing')
    cfg = preset('fast', epochs=1, batch_size=128, lr=0.1, warmup_epochs=0)
    plain = Trainer(lenet(5), small, cfg, progress=False, plan=StepPlan()); plain.fit()
    t = Trainer(lenet(5), small, cfg, progress=False, plan=StepPlan(graphs=True))
    t.step = GraphedStep(t._step, Refuses)
    t.fit()
    assert t.step.failed and not t.step.captured
    assert capsys.readouterr().err.count('could not be captured as a CUDA graph') == 1
    assert all(torch.equal(a, b) for a, b in zip(plain.model.state_dict().values(), t.model.state_dict().values()))

def test_fp16_with_a_grad_scaler_learns_and_resumes_exactly(small, tmp_path):
    "The branch a GPU without bf16 (a V100) takes, run on a CPU: fp16 autocast, a grad scaler, its state saved with the trainer."
    cfg = preset('fast', epochs=2, batch_size=128, lr=0.1, warmup_epochs=0)
    straight = Trainer(lenet(6), small, cfg, progress=False, plan=StepPlan('fp16')); straight.fit()
    assert straight.scaler is not None and straight.history[-1]['test_acc'] > 0.7
    first = Trainer(lenet(6), small, cfg, progress=False, plan=StepPlan('fp16'), cbs=[stop_after(1)]); first.fit()
    torch.save(first.state_dict(), tmp_path/'s.pt')
    second = Trainer(lenet(6), small, cfg, progress=False, plan=StepPlan('fp16'))
    second.load_state_dict(load_train_state(tmp_path/'s.pt')); second.fit()
    assert second.scaler.get_scale() == straight.scaler.get_scale()
    assert all(torch.equal(a, b) for a, b in zip(straight.model.state_dict().values(), second.model.state_dict().values()))

def test_a_compile_that_fails_falls_back_to_eager_from_where_it_began(small, monkeypatch, capsys):
    cfg = preset('workshop', epochs=1, batch_size=64, n_train=None, n_test=None)
    plain = Trainer(get_model('resnet20', in_channels=1, seed=2), small, cfg, progress=False, plan=StepPlan()); plain.fit()
    def broken_compile(model, **kw):
        def fwd(x):
            model(x)   # the forward runs (BatchNorm statistics move) before the compiler gives up
            raise RuntimeError('InductorError: no C++ compiler')
        return fwd
    monkeypatch.setattr(torch, 'compile', broken_compile)
    t = Trainer(get_model('resnet20', in_channels=1, seed=2), small, cfg, progress=False, plan=StepPlan(compile=True)); t.fit()
    assert 'torch.compile failed (RuntimeError: InductorError: no C++ compiler)' in capsys.readouterr().err
    assert t.fwd is t.model
    assert all(torch.equal(a, b) for a, b in zip(plain.model.state_dict().values(), t.model.state_dict().values()))

@pytest.mark.slow
def test_torch_compile_trains_on_a_cpu_as_eager_does(small):
    "The compile path for real (inductor, with this machine's C++ compiler): the same training within float tolerance."
    cfg = preset('fast', epochs=1, batch_size=128, lr=0.1, warmup_epochs=0)
    eager = Trainer(lenet(7), small, cfg, progress=False, plan=StepPlan()); eager.fit()
    comp = Trainer(lenet(7), small, cfg, progress=False, plan=StepPlan(compile=True)); comp.fit()
    assert comp.fwd is not comp.model, 'it compiled'
    assert all(torch.allclose(a, b, atol=1e-4) for a, b in zip(eager.model.state_dict().values(), comp.model.state_dict().values()))
    assert abs(eager.history[-1]['test_acc'] - comp.history[-1]['test_acc']) < 0.01

def test_a_resnet_step_is_a_few_hundred_operations(small):
    "What a CUDA graph replaces: counted on the step a GPU would run (forward, backward, one fused SGD kernel, the mask)."
    t = Trainer(get_model('resnet20', in_channels=1), small, preset('paper', n_train=None), progress=False, plan=StepPlan())
    xb, yb = next(t.ready_train().batches(128, augment=True, generator=t.gen))
    t.step(xb, yb)
    assert 150 < count_ops(t.step, xb, yb) < 300

def test_what_compile_needs_is_looked_for_not_assumed(monkeypatch):
    from lottery_nb.train import _compiler_missing
    import lottery_nb.train as train, importlib.util
    assert _compiler_missing('cpu') == '' and _compiler_missing('cuda') == ''   # this machine has g++, gcc and Triton
    assert 'not tried on mps' in _compiler_missing('mps')
    monkeypatch.setattr(train.shutil, 'which', lambda name: None)
    assert 'C++ compiler' in _compiler_missing('cpu') and 'C compiler' in _compiler_missing('cuda')
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: None)
    assert 'Triton' in _compiler_missing('cuda')

# ---- the GPU path's rules, shown where a CPU can show them (benchmarks/gpu_check.py shows the rest on a GPU)

def cuda_shaped_generator_state(seed:int=7, offset:int=4096) -> torch.Tensor:
    "A CUDA generator's state as torch writes it: its seed and Philox offset, 8 bytes each (a CPU generator's is 5,056)."
    import struct
    return torch.frombuffer(bytearray(struct.pack('<Qq', seed, offset)), dtype=torch.uint8).clone()

def test_a_state_written_on_a_gpu_continues_on_a_cpu_deterministically_and_says_so(small, tmp_path, capsys):
    import lottery_nb.core as core
    from lottery_nb.train import save_train_state
    cfg = preset('fast', epochs=3, batch_size=256, lr=0.1, warmup_epochs=1)
    stop = LambdaCallback(after_epoch=lambda t: setattr(t, 'stop', t.epoch == 1))
    half = Trainer(lenet(3), small, cfg, progress=False, cbs=[stop]); half.fit()
    sd = half.state_dict()
    assert sd['gen'].numel() == 5056 and sd['device'] == 'cpu'
    sd['gen'], sd['device'] = cuda_shaped_generator_state(), 'cuda'   # as a GPU wrote it
    save_train_state(sd, tmp_path/'gpu.safetensors')
    core._said.clear()
    runs = []
    for _ in range(2):
        t = Trainer(lenet(3), small, cfg, progress=False)
        assert t.resume(tmp_path/'gpu.safetensors')
        t.fit(); runs.append(t)
    assert capsys.readouterr().err.count('was written on cuda: its data order cannot continue on cpu') == 1
    a, b = runs
    assert len(a.history) == 3 and a.history[-1]['test_acc'] > 0.7
    assert all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values())), 'deterministic'

def test_a_finished_trainer_is_freed_at_once_without_the_cyclic_gc(small):
    "A trainer (and on a GPU its graph's memory pool) goes when its last reference does, graphed or not."
    import gc, weakref
    cfg = preset('fast', epochs=1, batch_size=256, lr=0.1, warmup_epochs=0)
    for plan in (StepPlan(), StepPlan(graphs=True)):
        t = Trainer(lenet(1), small, cfg, progress=False, plan=plan); t.train_epoch(5)
        assert getattr(t.step, 'captured', True)
        ref, was = weakref.ref(t), gc.isenabled()
        gc.disable()
        try:
            del t
            assert ref() is None, f'{plan}: kept alive by a reference cycle'
        finally:
            if was: gc.enable()

def test_masks_take_their_weights_memory_layout(small):
    "Under channels-last, so that one fused multiply holds every mask (not one kernel per tensor)."
    net = get_model('resnet8', in_channels=1)
    g = torch.Generator().manual_seed(0)
    mask = {n: torch.rand(p.shape, generator=g) < 0.5 for n, p in net.named_parameters() if p.dim() > 1}
    t = Trainer(net, small, preset('fast'), mask=mask, progress=False, plan=StepPlan(channels_last=True))
    conv = [(p, m) for p, m in t._masked if p.dim() == 4]
    assert conv and all(p.stride() == m.stride() and p.is_contiguous(memory_format=torch.channels_last) for p, m in conv)

def test_train_epoch_outside_fit_can_reach_a_record(small):
    "A benchmark's few steps that cross an evaluation point record it, as fit would."
    t = Trainer(lenet(2), small, preset('fast', batch_size=128, eval_every=2, warmup_epochs=0), progress=False)
    t.train_epoch(4)
    assert [h['iteration'] for h in t.history] == [2, 4]

def test_a_trainer_uses_its_share_of_cpu_threads_and_puts_the_count_back(small):
    from lottery_nb.train import set_threads
    seen, before = [], torch.get_num_threads()
    cb = LambdaCallback(after_step=lambda t: seen.append(torch.get_num_threads()))
    set_threads(1)
    try: Trainer(lenet(2), small, preset('fast', epochs=1, batch_size=512, warmup_epochs=0), progress=False, cbs=[cb]).fit()
    finally: set_threads(None)
    assert set(seen) == {1} and torch.get_num_threads() == before

def test_a_compile_that_fails_while_evaluating_falls_back_with_one_line(small, capsys):
    "The step compiled fine, then its evaluation (another graph for torch.compile) fails: the training goes on uncompiled."
    t = Trainer(lenet(2), small, preset('fast', epochs=2, batch_size=128, lr=0.1, warmup_epochs=0), progress=False)
    class Fragile(torch.nn.Module):   # as torch.compile's module would be, failing in eval mode only
        def __init__(self, m): super().__init__(); self.m = m
        def forward(self, x):
            if not self.training: raise RuntimeError('InductorError: a C++ compile error')
            return self.m(x)
    t.fwd = Fragile(t.model)
    t.fit()
    assert t.fwd is t.model and len(t.history) == 2 and t.history[-1]['test_acc'] > 0.6
    assert capsys.readouterr().err.count('torch.compile failed while evaluating (RuntimeError: InductorError') == 1

def test_a_failed_capture_names_the_first_error_of_the_chain(small, capsys):
    "After a CUDA-level failure, the capture's exit raises a second error; the note names the first, which says why."
    class Refuses(EagerGraph):
        def capture(self, fn):
            try: raise RuntimeError('operation not permitted when stream is capturing')
            finally: raise RuntimeError('operation failed due to a previous error during capture')
    t = Trainer(lenet(5), small, preset('fast', epochs=1, batch_size=512, warmup_epochs=0), progress=False, plan=StepPlan(graphs=True))
    t.step = GraphedStep(t._step, Refuses)
    t.fit()
    err = capsys.readouterr().err
    assert 'operation not permitted when stream is capturing' in err and 'previous error' not in err

def test_the_training_side_imports_without_the_notebook_stack(tmp_path):
    "A bare GPU image has torch, torchvision, numpy, tqdm and safetensors only: training and the command line import there."
    import subprocess, sys, textwrap
    code = textwrap.dedent('''
        import sys, importlib.abc
        BARE = ('fastcore', 'ipywidgets', 'anywidget', 'plotly', 'matplotlib', 'jupyter', 'jupyterlab', 'IPython', 'nbdev',
                'traitlets', 'submitit')
        class Bare(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split('.')[0] in BARE: raise ImportError(f'{name}: not on a bare GPU image')
        sys.meta_path.insert(0, Bare())
        import lottery_nb.train, lottery_nb.together, lottery_nb.runs, lottery_nb.seeds, lottery_nb.stability, lottery_nb.cli
        from lottery_nb.cli import main
        sys.exit(main(sys.argv[1:]))''')
    r = subprocess.run([sys.executable, '-c', code, 'imp', '--model', 'lenet300_100', '--rounds', '1', '--epochs', '1',
                        '--n-train', '512', '--n-test', '256', '--controls', 'none', '--quiet', '--out', str(tmp_path/'s')],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path/'s'/'level_01'/'ticket'/'metrics.json').exists()

def test_trainings_on_one_machine_share_its_cores(tmp_path):
    "Another process training here halves this one's share; a training that died without cleaning up is not counted."
    import subprocess, sys, time
    from lottery_nb.train import trainings_here, cpu_threads, physical_cores, _trainings_dir
    _trainings_dir().mkdir(parents=True, exist_ok=True)
    (_trainings_dir()/'999999999').write_text('999999999')   # a pid that is not running
    other = subprocess.Popen([sys.executable, '-c', 'import time\nfrom lottery_nb.train import training_here\n'
                              'with training_here():\n    print("in", flush=True); time.sleep(30)'], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == 'in'
        assert trainings_here() == 2 and cpu_threads() == max(1, physical_cores() // 2)
    finally: other.kill(); other.wait()
    assert trainings_here() == 1 and cpu_threads() == physical_cores()
    (_trainings_dir()/'999999999').unlink(missing_ok=True)
