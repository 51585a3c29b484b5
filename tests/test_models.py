"Properties of lottery_nb.models: the architectures of the literature, with the names Distiller's checkpoints use."
import pytest
import torch
from lottery_nb.core import LotteryError
from lottery_nb.models import get_model, count_params, load_state, clean_state_dict

def distiller_resnet_names(n=3):
    "Parameter and buffer names of Distiller's resnet{6n+2}_cifar, written out from its source layout."
    names = ['conv1.weight'] + [f'bn1.{b}' for b in ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')]
    for layer in (1, 2, 3):
        for blk in range(n):
            p = f'layer{layer}.{blk}'
            for i in (1, 2):
                names += [f'{p}.conv{i}.weight'] + [f'{p}.bn{i}.{b}' for b in ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')]
            if layer > 1 and blk == 0:
                names += [f'{p}.downsample.0.weight'] + [f'{p}.downsample.1.{b}' for b in ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')]
    return set(names + ['fc.weight', 'fc.bias'])

@pytest.mark.parametrize('depth', [20, 32, 56])
def test_state_dict_names_are_distillers(depth):
    assert set(get_model(f'resnet{depth}').state_dict()) == distiller_resnet_names((depth - 2) // 6)

def test_parameter_counts_match_the_literature():
    assert count_params(get_model('resnet20')) == 272_474          # ~0.27M with 1x1-conv shortcuts (OpenLTH, Distiller)
    assert count_params(get_model('resnet20', shortcut='pad')) == 269_722
    assert count_params(get_model('resnet56')) == 855_770          # ~0.85M (He et al. 2016)
    assert count_params(get_model('lenet300_100', in_channels=1, img_size=28)) == 266_610
    # the width multiplier scales every convolution: about 4x the weights at width 2
    assert 3.9 < count_params(get_model('resnet20', width=2)) / count_params(get_model('resnet20')) < 4.0

def test_pad_shortcut_has_no_parameters_and_keeps_shapes():
    m = get_model('resnet20', shortcut='pad')
    assert not any('downsample' in n for n, _ in m.named_parameters())
    assert m(torch.randn(3, 3, 32, 32)).shape == (3, 10)

@pytest.mark.parametrize('c,hw', [(1, 28), (3, 32), (3, 64)])
def test_any_input_shape(c, hw):
    assert get_model('resnet20', in_channels=c, num_classes=7)(torch.randn(2, c, hw, hw)).shape == (2, 7)

def test_depth_must_be_6n_plus_2():
    with pytest.raises(LotteryError, match='6n\\+2'): get_model('resnet21')

def test_unknown_model_lists_the_known_ones():
    with pytest.raises(LotteryError, match='resnet20'): get_model('alexnet')   # (vgg16 is a model now)

def test_seed_fixes_theta0_without_touching_global_rng():
    torch.manual_seed(123); before = torch.rand(1)
    torch.manual_seed(123); get_model(seed=4); after = torch.rand(1)
    assert torch.equal(before, after)
    a, b = get_model(seed=4), get_model(seed=4)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))

def test_distiller_checkpoint_loads_after_stripping_module_prefix():
    src = get_model(seed=9)
    ck = {'arch': 'resnet20_cifar', 'epoch': 3, 'state_dict': {f'module.{k}': v for k, v in src.state_dict().items()}}
    dst = load_state(get_model(seed=0), ck)
    assert all(torch.equal(x, y) for x, y in zip(src.state_dict().values(), dst.state_dict().values()))
    assert set(clean_state_dict({'_orig_mod.fc.weight': 1, 'module.module.conv1.weight': 2})) == {'fc.weight', 'conv1.weight'}

def test_checkpoint_of_another_architecture_is_refused_clearly():
    with pytest.raises(LotteryError, match='missing|unexpected|shape'):
        load_state(get_model('resnet20'), get_model('resnet32').state_dict())
    with pytest.raises(LotteryError, match='fc.weight'):
        load_state(get_model('resnet20'), get_model('resnet20', num_classes=100).state_dict())
