"""Run the tutorials top to bottom at one scale and time them: `python tools/run_tutorials.py --scale workshop [--save] [--no-bf16]`.

Each runs in a scratch folder written as `lottery-nb tutorials DIR` writes one (so nothing trained earlier is reused and the timings are honest), with
`LOTTERY_NB_SCALE` set. --save writes the executed notebooks back into nbs/tutorials/ (how their kept outputs are made);
--no-bf16 runs them as a CPU without native bf16 does (most laptops): `LOTTERY_NB_BF16=0`, so training stays in float32.
The timings go beside the tutorials, to nbs/tutorials/timings-<device>.json, keyed by scale (and ', bf16 off')."""
import argparse, json, os, platform, shutil, sys, tempfile, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from lottery_nb.scales import SCALES
from lottery_nb.cli import write_tutorials

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT/'nbs'/'tutorials'

def scratch_copy(tmp:Path) -> Path:
    "The tutorials written under `tmp` as `lottery-nb tutorials` writes them (they open the shipped studies by name)."
    write_tutorials(tmp/'tutorials')
    return tmp/'tutorials'

def execute(path:Path, scale:str, timeout:int=1800, bf16:bool=True) -> tuple[nbformat.NotebookNode, float]:
    "Run the notebook at `path` in its own folder at `scale` (bf16 off: as a CPU without native bf16); returns it with its outputs, and the seconds it took."
    nb = nbformat.read(path, as_version=4)
    old, old_bf16 = os.environ.get('LOTTERY_NB_SCALE'), os.environ.get('LOTTERY_NB_BF16')
    os.environ['LOTTERY_NB_SCALE'] = scale   # the kernel inherits it; pick_scale reads it
    if not bf16: os.environ['LOTTERY_NB_BF16'] = '0'   # and fast_bf16 this
    try:
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}},
                       store_widget_state=False).execute()   # widget state would embed plotly.js in every notebook
        return nb, time.perf_counter() - t0
    finally:
        for k, v in (('LOTTERY_NB_SCALE', old), ('LOTTERY_NB_BF16', old_bf16)):
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v

def drop_progress_bars(nb) -> nbformat.NotebookNode:
    "Remove the progress bars' widget outputs: saved without a kernel they would read '0%' forever (they show live when the notebook runs)."
    for c in nb.cells:
        if c.cell_type == 'code':
            c.outputs = [o for o in c.outputs if not ('application/vnd.jupyter.widget-view+json' in o.get('data', {})
                                                       and 'application/vnd.lottery-nb.explorer+json' not in o.get('data', {}))]
    return nb

def device() -> str:
    import torch
    from lottery_nb.core import default_device, device_name
    return device_name(default_device()) + f", torch {torch.__version__}"

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--scale', default='workshop', choices=SCALES)
    ap.add_argument('--save', action='store_true', help='write the executed notebooks back to nbs/tutorials/')
    ap.add_argument('--no-bf16', action='store_true', help='train in float32, as a CPU without native bf16 does (most laptops)')
    ap.add_argument('names', nargs='*', help='tutorials to run (default: all), e.g. 01_first_ticket')
    a = ap.parse_args(argv)
    paths = sorted(TUTORIALS.glob('[0-9]*.ipynb'))
    if a.names:
        unknown = [n for n in a.names if not (TUTORIALS/f'{Path(n).stem}.ipynb').exists()]
        if unknown: print(f"run_tutorials: no tutorial {', '.join(unknown)}", file=sys.stderr); return 2
        paths = [TUTORIALS/f'{Path(n).stem}.ipynb' for n in a.names]
    dev = device()
    from lottery_nb.core import default_device
    from lottery_nb.train import fast_bf16
    bf16 = not a.no_bf16 and fast_bf16(default_device())   # what the tutorials will train in: bf16 only where the device does it natively
    kind = 'gpu' if 'cuda' in dev.lower() or 'nvidia' in dev.lower() else 'cpu'
    out = TUTORIALS/f'timings-{kind}.json'
    results = json.loads(out.read_text()) if out.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        work = scratch_copy(Path(tmp))
        for p in paths:
            nb, secs = execute(work/p.name, a.scale, bf16=not a.no_bf16)
            print(f"{p.stem:<28} {secs:7.1f} s at scale {a.scale!r} on {dev}{'' if bf16 else ', bf16 off'}", flush=True)
            results.setdefault(a.scale + ('' if bf16 else ', bf16 off'), {})[p.stem] = dict(bf16=bf16,seconds=round(secs, 1), device=dev, cores=os.cpu_count(),
                                                           machine=platform.processor() or platform.machine(), date=time.strftime('%Y-%m-%d'))
            out.write_text(json.dumps(results, indent=2) + '\n')
            if a.save: nbformat.write(drop_progress_bars(nb), p)
    print(f"timings in {out.relative_to(ROOT)}")
    return 0

if __name__ == '__main__': sys.exit(main())
