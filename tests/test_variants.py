"A variant is one object in one registry: registering a control is all it takes for studies, plots, the explorer and the CLI to have it."
import torch, pytest
from lottery_nb.core import LotteryError
from lottery_nb.variants import VARIANTS, Variant, register, control_names, check_controls
from lottery_nb.config import ImpConfig
from lottery_nb.runs import ImpRun
from lottery_nb.plots import VARIANT_STYLE, accuracy_table
from lottery_nb.view import study_summary
from lottery_nb.cli import parser
from lottery_nb.train import _histories

@pytest.fixture
def flipped():
    v = register(Variant('flipped', 'flipped mask', "the ticket's mask, each layer's rows in reverse", '#E69F00', 'dot', 'x',
                         seed_offset=4000, own_mask=lambda mask, seed: {k: m.flip(0) for k, m in mask.items()}))
    try: yield v
    finally: VARIANTS.pop('flipped')

def test_a_registered_control_is_trained_drawn_and_offered_everywhere(flipped, tmp_path, fmnist_dir):
    assert 'flipped' in control_names() and VARIANT_STYLE['flipped']['label'] == 'flipped mask'
    imp_help = parser()._subparsers._group_actions[0].choices['imp'].format_help()
    assert 'flipped' in ' '.join(imp_help.split())
    cfg = ImpConfig(rounds=1, controls=('flipped',), train=dict(epochs=1, n_train=512, n_test=200))
    run = ImpRun(tmp_path/'s', cfg, data_dir=fmnist_dir, device='cpu', progress=False).run()
    imp, own = run.mask(1), run.mask(1, 'flipped')
    assert all(torch.equal(own[k], imp[k].flip(0)) for k in imp), 'it trained under its own mask, saved beside it'
    assert (tmp_path/'s'/'level_01'/'flipped'/'mask.safetensors').exists() and run.verify() == []
    assert set(accuracy_table(run)) == {'ticket', 'flipped'} and study_summary(run)['style']['flipped']['color'] == '#E69F00'

def test_names_and_seed_offsets_are_each_taken_once():
    with pytest.raises(LotteryError, match='registered already'): register(Variant('random', '', '', '', '', ''))
    with pytest.raises(LotteryError, match='seed offset 1000 is taken'): register(Variant('other', '', '', '', '', '', seed_offset=1000))
    with pytest.raises(LotteryError, match='unknown control'): check_controls(['ticket'])
    assert [VARIANTS[c].seed(7, 2, 'offset') for c in control_names()] == [1009, 2009, 3009]   # the seeds old studies were made with
    from lottery_nb.core import seed_for
    assert [VARIANTS[c].seed(7, 2) for c in control_names()] == [seed_for(7, c, 2) for c in control_names()]   # and new ones

def test_trainer_state_from_lottery_nb_0_1_gives_each_network_its_history():
    lone = [dict(epoch=1, test_acc=0.8), dict(epoch=2, test_acc=0.85)]
    assert _histories(lone, 1) == [lone]
    together = [dict(epoch=1, test_acc=[0.8, 0.7], lr=0.1)]
    assert _histories(together, 2) == [[dict(epoch=1, test_acc=0.8, lr=0.1)], [dict(epoch=1, test_acc=0.7, lr=0.1)]]
    assert _histories([[e] for e in lone], 2) == [[lone[0]], [lone[1]]]   # as this version writes it
