"The project's promises about itself: README made from index.ipynb, CI runs the README's test command, nbdev 3 config."
import re, subprocess, sys, tomllib
from pathlib import Path
ROOT = Path(__file__).parent.parent

def readme_commands():
    block = re.search(r'```bash\n(.*?)```', (ROOT/'README.md').read_text(), re.S)[1]
    return [l for l in block.splitlines() if l.strip()]

def test_readme_opens_with_exactly_two_commands_and_ci_runs_the_test_one_verbatim():
    cmds = readme_commands()
    assert len(cmds) == 2 and 'lottery-nb summary' in cmds[0] and 'lottery-nb imp' in cmds[0] and 'pytest' in cmds[1]
    ci = (ROOT/'.ci'/'run').read_text().splitlines()
    assert cmds[1] in ci, '.ci/run must run the README test command exactly'

def test_readme_is_index_ipynb_converted(tmp_path):
    subprocess.run([sys.executable, '-m', 'jupyter', 'nbconvert', '--to', 'markdown', str(ROOT/'nbs'/'index.ipynb'),
                    '--output-dir', str(tmp_path), '--output', 'README'], check=True, capture_output=True)
    assert (tmp_path/'README.md').read_text() == (ROOT/'README.md').read_text(), \
        'README.md is out of step with nbs/index.ipynb: jupyter nbconvert --to markdown nbs/index.ipynb --output-dir . --output README'

def test_nbdev3_config_lives_in_pyproject():
    cfg = tomllib.loads((ROOT/'pyproject.toml').read_text())
    assert cfg['tool']['nbdev']['lib_path'] == 'lottery_nb' and set(cfg['tool']['nbdev']['tst_flags'].split()) == {'slow', 'cuda'}
    assert not (ROOT/'settings.ini').exists()
    deps = ' '.join(cfg['project']['dependencies'])
    assert 'torch>=' in deps and 'torch==' not in deps and 'torchvision' in deps

def test_every_module_has_its_notebook():
    mods = {p.stem for p in (ROOT/'lottery_nb').glob('*.py') if not p.name.startswith('_')}
    nbs = {re.sub(r'^\d+[a-z]?_', '', p.stem) for p in (ROOT/'nbs').glob('[0-9]*.ipynb')}
    assert mods == nbs
