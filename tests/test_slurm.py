"""Sweeps on a real Slurm: a one-node cluster of Debian's slurm-wlm and munge, started by the test on loopback (its own
ports, key and folders), without accounting (no slurmdbd), as small clusters often are."""
import json, os, shutil, signal, socket, subprocess, time
from pathlib import Path
import pytest
from lottery_nb.lock import read_history
from lottery_nb.sweep import Sweep
from lottery_nb.train import set_threads
from test_sweep import TWO, same_results, finish

DAEMONS = ('munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo')

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def conf(d:Path, munge:Path) -> str:
    return '\n'.join([
        'ClusterName=lnbtest', 'SlurmctldHost=localhost', 'SlurmUser=root', 'SlurmdUser=root', 'AuthType=auth/munge',
        'CredType=cred/munge', f'AuthInfo=socket={munge}/munge.socket', 'MpiDefault=none', 'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none', 'JobAcctGatherType=jobacct_gather/none', 'AccountingStorageType=accounting_storage/none',
        'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core', 'SchedulerType=sched/backfill',
        f'StateSaveLocation={d}/state', f'SlurmdSpoolDir={d}/spool', f'SlurmctldPidFile={d}/slurmctld.pid',
        f'SlurmdPidFile={d}/slurmd.pid', f'SlurmctldLogFile={d}/slurmctld.log', f'SlurmdLogFile={d}/slurmd.log',
        f'SlurmctldPort={free_port()}', f'SlurmdPort={free_port()}', 'ReturnToService=2', 'JobRequeue=1', 'KillWait=5',
        'NodeName=localhost CPUs=2 State=UNKNOWN',
        'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES', ''])

@pytest.fixture(scope='module')
def slurm(tmp_path_factory):
    "SLURM_CONF of a one-node Slurm running here for this module's tests (skipped, saying why, where it cannot start)."
    if missing := [b for b in DAEMONS if not shutil.which(b)]:
        pytest.skip(f"Slurm cannot start here: {', '.join(missing)} not installed (apt-get install slurm-wlm munge)")
    if os.geteuid() != 0: pytest.skip("Slurm cannot start here: its daemons run as root, and this is not")
    d = tmp_path_factory.mktemp('slurm'); mu = d/'munge'; mu.mkdir(mode=0o700); (d/'state').mkdir(); (d/'spool').mkdir()
    subprocess.run(['mungekey', '-c', '-f', '-k', mu/'munge.key'], check=True, capture_output=True)
    subprocess.run(['munged', '--force', f'--socket={mu}/munge.socket', f'--key-file={mu}/munge.key', f'--pid-file={mu}/munged.pid',
                    f'--log-file={mu}/munged.log', f'--seed-file={mu}/munged.seed'], check=True, capture_output=True)
    (d/'slurm.conf').write_text(conf(d, mu))
    env = {**os.environ, 'SLURM_CONF': str(d/'slurm.conf')}
    subprocess.run(['slurmctld', '-f', d/'slurm.conf'], check=True, env=env, capture_output=True)
    subprocess.run(['slurmd', '-f', d/'slurm.conf', '-N', 'localhost'], check=True, env=env, capture_output=True)
    try:
        for _ in range(60):
            r = subprocess.run(['sinfo', '-h', '-o', '%T'], env=env, capture_output=True, text=True)
            if r.stdout.strip() == 'idle': break
            time.sleep(0.5)
        else:
            logs = ' | '.join(p.read_text()[-300:] for p in d.glob('*.log'))
            pytest.skip(f"Slurm did not come up in 30 s here ({r.stdout.strip() or r.stderr.strip()}): {logs}")
        yield str(d/'slurm.conf')
    finally:
        for pid_file in (d/'slurmd.pid', d/'slurmctld.pid', mu/'munged.pid'):
            try: os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except (OSError, ValueError): pass

def squeue(job:str, env) -> str:
    "The state and reason Slurm gives `job` now ('' once it has left the queue)."
    return subprocess.run(['squeue', '-h', '-o', '%T %r', '-j', job], env=env, capture_output=True, text=True).stdout.strip()

def test_a_sweep_on_slurm_finishes_and_a_job_timed_out_is_requeued_and_finishes_bitwise(slurm, tmp_path, fmnist_dir, monkeypatch):
    monkeypatch.setenv('SLURM_CONF', slurm)
    env = dict(os.environ)
    sw, said = Sweep(tmp_path/'sweep', TWO), []
    jobs = sw.submit('slurm', timeout_min=10, cpus_per_task=1, data_dir=str(fmnist_dir))
    assert len(jobs) == 2 and all('_' in str(j.job_id) for j in jobs), 'one job array, a task per study'
    first, job = sw.names[0], str(jobs[0].job_id)
    deadline = time.time() + 240
    while not (sw.layout.study(first)/'level_01'/'ticket'/'state.safetensors').exists():   # in the middle of level 1's ticket
        assert time.time() < deadline, f"{first} never got going: {squeue(job, env)}"
        time.sleep(0.01)
    subprocess.run(['scancel', '--signal=USR2', job], env=env, check=True)   # what Slurm sends at the time limit (--signal=USR2@90)
    while 'BeginTime' not in (state := squeue(job, env)):   # requeued, and held back a while, as Slurm holds a requeued job
        assert time.time() < deadline, f"{job} was not requeued: {state}"
        time.sleep(0.2)
    # (so the test stays short) released 2 s on: slurmd refuses to launch a job in the second its last run was killed,
    # whose credential it revoked then ("Job 2 already killed, do not launch batch job": the job ends failed, as it did
    # on CI); Slurm's own hold on a requeued job is far longer
    time.sleep(2)
    subprocess.run(['scontrol', 'update', f'JobId={job}', 'StartTime=now'], env=env, check=True)
    out = sw.wait(jobs, every=0.5, say=said.append)
    assert [r['state'] for r in out] == ['done', 'done'], out
    assert sum('keeps no job accounting' in s for s in said) == 1, said   # said once, not a warning per poll
    events = [h['event'] for h in read_history(sw.layout.history(first))]
    assert events == ['acquired', 'requeued', 'acquired', 'finished'], events
    ref = Sweep(tmp_path/'straight', TWO)
    set_threads(1)   # bitwise needs the thread count the jobs had: Slurm gave each task one CPU (oneDNN picks kernels by it)
    try: assert [r['state'] for r in finish(ref, ref.submit('debug', data_dir=fmnist_dir))] == ['done', 'done']
    finally: set_threads(None)
    same_results(sw, ref)
