"""Installed, not cloned: the wheel a user builds (`pip wheel .`, as `pip install git+URL` does) installed into a fresh
environment outside the repository (no editable install, the repository not on the path), and used from an empty folder.

The environment sees this machine's packages (torch and the rest) through a path file, as a system's packages are seen,
but not the repository's editable install: that is a finder a `.pth` of the system's site-packages would install, and
`.pth` files are read only in site-packages themselves, not in a folder a path file adds."""
import json, os, shutil, subprocess, sys, sysconfig, venv
from pathlib import Path
import nbformat, pytest
ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow
LEFT_OUT = shutil.ignore_patterns('.git', 'build', 'dist', '*.egg-info', '__pycache__', 'runs', '_docs', '_proc', '.device',
                                  '.ipynb_checkpoints', '.pytest_cache', '.hypothesis')

@pytest.fixture(scope='module')
def env(tmp_path_factory):
    "A fresh environment with only the built wheel of lottery_nb installed; returns how to run its commands."
    tmp = tmp_path_factory.mktemp('installed')
    shutil.copytree(ROOT, tmp/'src', ignore=LEFT_OUT, symlinks=True)   # what a clone holds (build/ would be written into it)
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', str(tmp/'src'),
                    '-w', str(tmp/'dist')], check=True, cwd=tmp)
    wheel, = (tmp/'dist').glob('lottery_nb-*.whl')
    venv.create(tmp/'env', with_pip=False)
    site, = (tmp/'env'/'lib').glob('python3*/site-packages')
    (site/'_this_machine.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    clean = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    clean.update(PATH=f"{tmp/'env'/'bin'}{os.pathsep}{clean['PATH']}", LOTTERY_NB_HOME=str(tmp/'home'),
                 XDG_CACHE_HOME=str(tmp/'cache'), PYTHONDONTWRITEBYTECODE='1')
    subprocess.run([sys.executable, '-m', 'pip', '--python', str(tmp/'env'/'bin'/'python'), 'install', '-q', '--no-deps',
                    '--no-index', str(wheel)], check=True, env=clean)
    (tmp/'empty').mkdir()
    def run(*cmd, check=True, **kw):
        r = subprocess.run(cmd, cwd=tmp/'empty', env={**clean, **kw.pop('env', {})}, capture_output=True, text=True, **kw)
        if check: assert r.returncode == 0, f"{' '.join(map(str, cmd))}: {r.stdout[-2000:]}{r.stderr[-3000:]}"
        return r
    run.root, run.site, run.wheel, run.here = tmp, site, wheel, tmp/'empty'
    yield run

def test_the_wheel_carries_the_studies_the_tutorials_and_the_explorers_code(env):
    r = env('python', '-c', "import lottery_nb, lottery_nb.layout as L, lottery_nb.widgets as W; "
                            "print(lottery_nb.__file__); print(L.shipped_root()); print(len(W.explorer_source()))")
    pkg, studies, js = r.stdout.split()
    assert Path(pkg).is_relative_to(env.site) and Path(studies) == env.site/'lottery_nb'/'studies', 'the installed copy'
    assert int(js) > 40_000
    assert (env.root/'env'/'share'/'jupyter'/'lab'/'settings'/'overrides.d'/'lottery_nb.json').exists()
    print(f"wheel {env.wheel.stat().st_size / 1e6:.1f} MB")

def test_the_main_command_runs_from_an_empty_folder(env):
    r = env('lottery-nb', 'summary', 'lenet300-fmnist-imp')
    assert '(lenet300-fmnist-imp)' in r.stdout and '    5    32.87%   0.9002   0.8936   0.8924' in r.stdout
    r = env('lottery-nb', 'imp', '--model', 'lenet300_100', '--rounds', '5', '--fraction', '0.5', '--out', 'runs/first')
    assert '    5     3.20%' in r.stdout and (env.here/'runs'/'first'/'level_05'/'ticket'/'metrics.json').exists()
    assert env('lottery-nb', 'check', 'runs/first').returncode == 0

def test_shipped_studies_open_by_name_in_python_and_on_the_command_line(env):
    r = env('lottery-nb', 'studies')
    assert all(name in r.stdout for name in ('lenet300-fmnist-imp', 'lenet300-fmnist-lth', 'resnet20w05-fmnist-rewind-k'))
    assert 'all 11 files are sound' in env('lottery-nb', 'check', 'resnet20w05-fmnist-rewind-k/k0000').stdout
    r = env('python', '-c', "from lottery_nb.widgets import explore\ne = explore('lenet300-fmnist-lth')\n"
                            "print(e.study, e.level, len(e.summary['levels']))")
    assert r.stdout.split('\n')[0] == "SeedGroup('lenet300-fmnist-lth', seeds 0, 1, 2) 1 9", r.stdout
    env('lottery-nb', 'export-html', 'lenet300-fmnist-lth', 'lth.html')
    assert 'lnb-static' in (env.here/'lth.html').read_text()
    r = env('lottery-nb', 'summary', 'no-such-study', check=False)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'no-such-study' in r.stderr

def test_a_shipped_study_is_copied_before_training_writes_into_it(env):
    r = env('python', '-c', "from lottery_nb.runs import open_run, read_only\nr = open_run('lenet300-fmnist-imp')\n"
                            "print(read_only(r.out), r.writable().out)")
    assert r.stdout.split() == ['True', str(env.root/'home'/'studies'/'lenet300-fmnist-imp')]

def test_the_tutorials_written_anywhere_run_there(env):
    env('lottery-nb', 'tutorials', 't')
    nb = env.here/'t'/'01_first_ticket.ipynb'
    env('python', '-c', "import nbformat, sys\nfrom nbclient import NotebookClient\n"
                        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
                        "nb.cells.append(nbformat.v4.new_code_cell('import lottery_nb; print(lottery_nb.__file__)'))\n"
                        "NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
                        "nbformat.write(nb, sys.argv[1])", str(nb), str(nb.parent), env={'LOTTERY_NB_SCALE': 'ci'})
    ran = nbformat.read(nb, as_version=4)
    code = [c for c in ran.cells if c.cell_type == 'code']
    assert all(c.get('execution_count') for c in code), 'every cell ran'
    text = ''.join(o.get('text', '') + str(o.get('data', {}).get('text/plain', '')) for c in code for o in c.outputs)
    assert "Scale('ci'" in text, 'the tutorial picked up the ci scale'
    assert code[-1].outputs[0]['text'].strip() == str(env.site/'lottery_nb'/'__init__.py'), 'its kernel ran the installed package'
