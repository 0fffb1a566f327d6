#!/usr/bin/python3
"""The plasticity benchmarks: n4d and Brian2 (C++ standalone) side by side,
alternating repetitions in one run (see bench/README.md, "Plasticity").

    bench/plasticity.py [--reps N] [--threads T] [--brian2-threads B]
                        [--song-duration MS] [--cuba-duration MS]
                        [--no-song] [--no-cuba] [--out bench/RESULTS.md]

(a) Song, Miller & Abbott (2000), Brian2's STDP example: 1000 Poisson
    inputs at 15 Hz onto one neuron through additive STDP synapses,
    examples/configs/stdp_song.json. n4d runs `song_bench CONFIG --threads T
    --wmax WMAX [--duration MS]` (bench/song_bench.c, one JSON line: sim_s,
    frac_low, frac_high, post_rate_hz, synapses, bytes_per_plastic_synapse;
    WMAX the config's, the bound Brian2's fractions use too), Brian2 runs
    bench/brian2/song.py. Reported: simulation time, Brian2 / n4d, the
    post-synaptic rate and the final weights (fractions below 0.1 Wmax and
    above 0.9 Wmax). Target: n4d at least 5x faster.
(b) CUBA 40k with STDP on E->E: n4d static (bench/configs/cuba_40k.json)
    and plastic (cuba_40k_stdp.json), each `n4d run CONFIG --threads T
    --quiet` as bench.py runs it, against Brian2 static (brian2/cuba.py)
    and plastic (brian2/cuba_stdp.py). Reported: simulation time per
    simulated second; targets: n4d plastic / static <= 2, Brian2 plastic /
    n4d plastic >= 3. Bytes per plastic E->E synapse from one short
    `song_bench cuba_40k_stdp.json --projection E->E` run (target <= 12).

Per repetition the order is n4d, Brian2 (Song), then n4d static, Brian2
static, n4d plastic, Brian2 plastic (CUBA); every run is a fresh process;
medians are reported. The Brian2 projects are generated and compiled once
before the timed runs (compile time listed apart). A variant that cannot
run (an n4d that does not load a config yet, a song_bench not built) is
reported as unavailable with the reason; the others still run.

--out FILE puts the report into FILE below the keep marker of
bench/RESULTS.md (replacing the section of an earlier run, the rest of the
file untouched); without it the report is only printed. Raw runs go to
bench/out/plasticity.json. Standard library only.
"""
import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import (CONFIGS, KEEP_MARKER, OUT, ROOT, brian2, fmt_mb, fmt_s, fmt_x, log,  # noqa: E402
                   run_n4d, table)

SONG_CONFIG = os.path.join(ROOT, "examples", "configs", "stdp_song.json")
CUBA_STATIC = os.path.join(CONFIGS, "cuba_40k.json")
CUBA_STDP = os.path.join(CONFIGS, "cuba_40k_stdp.json")
WORK = os.path.join(OUT, "plasticity")

SONG_SPEEDUP_TARGET = 5.0        # Brian2 / n4d, Song
STDP_OVERHEAD_TARGET = 2.0       # n4d plastic / n4d static, CUBA 40k
STDP_SPEEDUP_TARGET = 3.0        # Brian2 plastic / n4d plastic, CUBA 40k
STDP_BYTES_TARGET = 12.0         # bytes per plastic stdp synapse, CUBA 40k E->E

SECTION_BEGIN = "<!-- plasticity:begin (written by bench/plasticity.py) -->"
SECTION_END = "<!-- plasticity:end -->"


class Unavailable(Exception):
    """A variant that cannot run here (the reason is the message)."""


def rel(path):
    """A path relative to the repository when it lies inside it."""
    a = os.path.abspath(path)
    return os.path.relpath(a, ROOT) if a.startswith(ROOT + os.sep) else path


def first_error_line(text):
    """The first line of text naming an error (else its last line), with
    the repository's own path left out."""
    text = text.replace(ROOT + os.sep, "")
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower():
            return l
    return lines[-1] if lines else "(no message)"


def config_duration_ms(config):
    with open(config) as f:
        return float(json.load(f).get("duration", 1000.0))


# ---- running the variants -------------------------------------------------------

def song_wmax(config):
    """Wmax of the plastic projection in->post of the Song config, or None."""
    with open(config) as f:
        cfg = json.load(f)
    for pr in cfg.get("projections", []):
        if pr.get("source") == "in" and pr.get("target") == "post" and "Wmax" in pr.get("synapse", {}):
            return float(pr["synapse"]["Wmax"])
    return None


def run_song_bench(prog, config, extra_args):
    """One `song_bench CONFIG ARGS`: its JSON line plus peak RSS and wall
    time."""
    if not os.path.exists(prog):
        raise Unavailable(f"{rel(prog)} is not built (cmake --build build-bench --target song_bench)")
    rss_path = os.path.join(WORK, "song_bench.rss")
    os.makedirs(WORK, exist_ok=True)
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_path, prog, config, *extra_args]
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.time() - t0
    if p.returncode != 0:
        raise Unavailable(f"{rel(prog)} {rel(config)} exited with {p.returncode}: "
                          f"{first_error_line(p.stderr + p.stdout)}")
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise Unavailable(f"{rel(prog)} printed no JSON line:\n{p.stdout[-2000:]}")
    r = json.loads(lines[-1])
    for key in ("sim_s", "frac_low", "frac_high", "post_rate_hz"):
        if key not in r:
            raise Unavailable(f"{rel(prog)}: no '{key}' in its JSON line")
    with open(rss_path) as f:
        r["peak_rss_kb"] = int(f.read().split()[-1])
    r["wall_s"] = wall
    r["simulator"] = "n4d"
    return r


def run_n4d_checked(n4d, config, threads, duration_ms):
    if not os.path.exists(n4d):
        raise Unavailable(f"{rel(n4d)} is not built (bench/run.sh builds it, or "
                          f"cmake --build build-bench --target n4d_cli)")
    extra = ("--duration", f"{duration_ms:g}") if duration_ms is not None else ()
    try:
        return run_n4d(n4d, config, threads, extra=extra)
    except RuntimeError as e:
        raise Unavailable(f"n4d run {rel(config)}: {first_error_line(str(e))}")


class Variant:
    """One simulator on one model: how to run it, its runs, why it cannot."""

    def __init__(self, key, title, run):
        self.key, self.title, self.run_once = key, title, run
        self.runs, self.unavailable, self.compile_s = [], None, None

    def run(self, rep, reps):
        if self.unavailable:
            return
        try:
            r = self.run_once()
        except Unavailable as e:
            self.unavailable = str(e)
            log(f"[{self.key}] unavailable: {self.unavailable}")
            return
        self.runs.append(r)
        extra = ""
        if "frac_low" in r:
            extra = f", weights low {r['frac_low']:.3f} / high {r['frac_high']:.3f}"
        rate = r.get("post_rate_hz", r.get("rate_hz"))
        log(f"[{self.key}] rep {rep + 1}/{reps}: sim {fmt_s(r['sim_s'])}"
            + (f", {rate:.3f} Hz" if rate is not None else "") + extra)

    def med(self, key):
        vals = [r[key] for r in self.runs if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    def spread(self, key="sim_s"):
        vals = [r[key] for r in self.runs if r.get(key) is not None]
        return (min(vals), max(vals)) if vals else (None, None)


def brian2_variant(key, title, script, config, threads, duration_ms):
    v = Variant(key, title, lambda: brian2(script, config, threads, "run"))
    log(f"[{key}] generating and compiling the Brian2 project ...")
    try:
        b = brian2(script, config, threads, "build", duration_ms)
        v.compile_s = b["compile_s"]
    except RuntimeError as e:
        v.unavailable = f"Brian2 build failed: {first_error_line(str(e))}"
        log(f"[{key}] unavailable: {v.unavailable}")
    return v


# ---- the report -----------------------------------------------------------------

def cell_time(v, per_s=None):
    """Median (min - max) of sim_s, divided by per_s simulated seconds."""
    if v.unavailable or not v.runs:
        return "n/a"
    d = per_s or 1.0
    lo, hi = v.spread()
    s = fmt_s(v.med("sim_s") / d)
    if len(v.runs) > 1:
        s += f" ({fmt_s(lo / d)} - {fmt_s(hi / d)})"
    return s


def fmt_f(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def ratio(a, b):
    """a / b of the median simulation times, None when either is missing."""
    if a.unavailable or b.unavailable or not a.runs or not b.runs:
        return None
    return a.med("sim_s") / b.med("sim_s")


def target_line(value, ok, what):
    if value is None:
        return f"- **NOT MEASURED** {what}"
    return f"- **{'MET' if ok else 'MISSED'}** {what}: {value:.2f}x"


def render(args, mach, commit, started, finished, song, cuba, durations):
    L = []
    cmdline = os.environ.get("N4D_BENCH_COMMAND") or " ".join(
        shlex.quote(rel(a)) for a in [sys.argv[0]] + sys.argv[1:])
    L.append("## Plasticity: n4d and Brian2 side by side (bench/plasticity.py)\n")
    L.append(f"- command: `{cmdline}`")
    L.append(f"- date: {started:%Y-%m-%d %H:%M} - {finished:%H:%M} UTC; commit {commit}")
    L.append(f"- machine: {mach.get('cpu', '?')}, {mach.get('cores', '?')} cores, "
             f"{mach.get('memory', '?')}; load average at the start "
             f"{' '.join(mach.get('loadavg', ['?']))}")
    L.append(f"- {args.reps} repetition{'s' if args.reps != 1 else ''} per variant, alternating, "
             f"medians (min - max); n4d `--threads {args.threads}` (`song_bench`, `n4d run`), Brian2 "
             f"{'serial (no OpenMP)' if args.brian2_threads == 0 else f'{args.brian2_threads} OpenMP threads'}")
    targets = []
    if song:
        n4d_v, b2_v = song
        dur = durations["song"] / 1000.0
        L.append(f"\n### Song, Miller & Abbott (2000): 1000 Poisson inputs, one neuron, additive STDP "
                 f"({dur:g} s simulated)\n")
        rows = []
        for v, who in ((n4d_v, "n4d (`song_bench`)"), (b2_v, "Brian2 (`song.py`)")):
            if v.unavailable or not v.runs:
                rows.append([who, "n/a", "-", "-", "-", "-", "-", v.unavailable or "no runs"])
                continue
            rows.append([who, cell_time(v), fmt_s(v.med("sim_s") / dur),
                         fmt_f(v.med("post_rate_hz"), 2), fmt_f(v.med("frac_low")),
                         fmt_f(v.med("frac_high")), fmt_mb(v.med("peak_rss_kb")),
                         _song_note(v)])
        L.append(table(["simulator", "simulation time", "per simulated s", "post rate (Hz)",
                        "w < 0.1 Wmax", "w > 0.9 Wmax", "peak RSS", "notes"], rows))
        r = ratio(b2_v, n4d_v)
        L.append(f"\nBrian2 / n4d: {fmt_x(r)}")
        targets.append(target_line(r, r is not None and r >= SONG_SPEEDUP_TARGET,
                                   f"Song: n4d at least {SONG_SPEEDUP_TARGET:g}x faster than Brian2"))
    if cuba:
        dur = durations["cuba"] / 1000.0
        L.append(f"\n### CUBA 40k with STDP on E->E ({dur:g} s simulated)\n")
        rows = []
        for v in (cuba[k] for k in ("n4d_static", "brian2_static", "n4d_stdp", "brian2_stdp")):
            if v.unavailable or not v.runs:
                rows.append([v.title, "n/a", "-", "-", "-", "-", v.unavailable or "no runs"])
                continue
            note = []
            if v.compile_s is not None:
                note.append(f"compile {fmt_s(v.compile_s)}")
            if v.runs[0].get("checksum"):
                sums = {r["checksum"] for r in v.runs}
                note.append(f"checksum {v.runs[0]['checksum']}"
                            + ("" if len(sums) == 1 else " (DIFFERS between repetitions)"))
            if v.med("w_mean") is not None:
                note.append(f"final E->E w: mean {v.med('w_mean'):.3f} Wmax, "
                            f"< 0.1 Wmax {v.med('frac_low'):.3f}, > 0.9 Wmax {v.med('frac_high'):.3f}")
            rows.append([v.title, cell_time(v, dur), fmt_s(v.med("sim_s")), fmt_f(v.med("rate_hz"), 2),
                         f"{int(v.med('synapses')):,}" if v.med("synapses") is not None else "-",
                         fmt_mb(v.med("peak_rss_kb")), "; ".join(note)])
        L.append(table(["variant", "per simulated s", "simulation time", "rate (Hz)", "synapses",
                        "peak RSS", "notes"], rows))
        over = ratio(cuba["n4d_stdp"], cuba["n4d_static"])
        b2_over = ratio(cuba["brian2_stdp"], cuba["brian2_static"])
        speed = ratio(cuba["brian2_stdp"], cuba["n4d_stdp"])
        L.append(f"\nn4d plastic / static: {fmt_x(over)}; Brian2 plastic / static: {fmt_x(b2_over)}; "
                 f"Brian2 plastic / n4d plastic: {fmt_x(speed)}; Brian2 static / n4d static: "
                 f"{fmt_x(ratio(cuba['brian2_static'], cuba['n4d_static']))}")
        targets.append(target_line(over, over is not None and over <= STDP_OVERHEAD_TARGET,
                                   f"CUBA 40k: n4d plastic / static at most {STDP_OVERHEAD_TARGET:g}x"))
        targets.append(target_line(speed, speed is not None and speed >= STDP_SPEEDUP_TARGET,
                                   f"CUBA 40k: Brian2 plastic / n4d plastic at least "
                                   f"{STDP_SPEEDUP_TARGET:g}x"))
        mem = cuba.get("bytes")
        if isinstance(mem, dict):
            b = mem["bytes_per_plastic_synapse"]
            L.append(f"\nBytes per plastic E->E synapse (`{mem['command']}`): {b:.2f} B = "
                     f"{mem['bytes_per_synapse_model']:.2f} B of the model's synapse storage per "
                     f"synapse + {mem['overlay_bytes_per_plastic_synapse']:.2f} B the sim adds "
                     f"(its float weight and segment indices)")
            targets.append(f"- **{'MET' if b <= STDP_BYTES_TARGET else 'MISSED'}** CUBA 40k: "
                           f"bytes per plastic stdp synapse at most {STDP_BYTES_TARGET:g}: {b:.2f}")
        elif mem:
            L.append(f"\nBytes per plastic synapse: unavailable ({mem})")
    L.append("\n### Targets\n")
    L += targets
    return "\n".join(L) + "\n"


def _song_note(v):
    r = v.runs[0]
    note = []
    if v.compile_s is not None:
        note.append(f"compile {fmt_s(v.compile_s)}")
    if r.get("w_mean") is not None:
        note.append(f"mean w {v.med('w_mean'):.3f} Wmax")
    if r.get("synapses") is not None:
        note.append(f"{int(r['synapses']):,} synapses")
    if r.get("bytes_per_plastic_synapse") is not None:
        note.append(f"{r['bytes_per_plastic_synapse']:g} bytes per plastic synapse")
    return "; ".join(note)


def write_section(path, text):
    """Puts text below the keep marker of path: in place of the section an
    earlier run wrote, else at the end. Nothing above the marker changes."""
    with open(path) as f:
        old = f.read()
    at = old.find(KEEP_MARKER)
    if at < 0:
        raise SystemExit(f"plasticity: {path} has no keep marker line; not writing into it")
    head, tail = old[:at + len(KEEP_MARKER)], old[at + len(KEEP_MARKER):]
    block = SECTION_BEGIN + "\n\n" + text.rstrip("\n") + "\n\n" + SECTION_END + "\n"
    b = tail.find(SECTION_BEGIN)
    e = tail.find(SECTION_END, b + 1) if b >= 0 else -1
    if b >= 0 and e >= 0:
        rest = tail[e + len(SECTION_END):].lstrip("\n")
        tail = tail[:b] + block + ("\n" + rest if rest else "")
    else:
        tail = tail.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(head + tail)


# ---- main ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n4d", default=os.path.join(ROOT, "build-bench", "n4d"))
    ap.add_argument("--song-bench", default=os.path.join(ROOT, "build-bench", "bench", "song_bench"))
    ap.add_argument("--song-bench-args", default="", help="more arguments for song_bench (one string)")
    ap.add_argument("--song-config", default=SONG_CONFIG)
    ap.add_argument("--cuba-static", default=CUBA_STATIC)
    ap.add_argument("--cuba-stdp", default=CUBA_STDP)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="n4d threads (cpu-omp; default 1)")
    ap.add_argument("--brian2-threads", type=int, default=0,
                    help="Brian2: 0 = serial build without OpenMP (default), N = N OpenMP threads")
    ap.add_argument("--song-duration", type=float, default=None,
                    help="simulated ms of Song (default: the config's, 100 s)")
    ap.add_argument("--cuba-duration", type=float, default=None,
                    help="simulated ms of CUBA (default: the configs', 1 s)")
    ap.add_argument("--no-song", action="store_true")
    ap.add_argument("--no-cuba", action="store_true")
    ap.add_argument("--no-brian2", action="store_true", help="n4d only")
    ap.add_argument("--out", default="",
                    help="write the report below the keep marker of this file (e.g. bench/RESULTS.md)")
    args = ap.parse_args()
    if args.reps < 1:
        sys.exit("plasticity: --reps must be >= 1")
    n4d = os.path.abspath(args.n4d)
    prog = os.path.abspath(args.song_bench)
    os.makedirs(WORK, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    mach = bench.machine_info()
    commit = bench.git_info()
    durations = {}

    order, song, cuba = [], None, None
    if not args.no_song:
        cfg = os.path.abspath(args.song_config)
        durations["song"] = args.song_duration or config_duration_ms(cfg)
        sargs = ["--threads", str(args.threads)]
        wmax = song_wmax(cfg)
        if wmax is not None:
            sargs += ["--wmax", f"{wmax:g}"]
        if args.song_duration:
            sargs += ["--duration", f"{args.song_duration:g}"]
        sargs += shlex.split(args.song_bench_args)
        n4d_v = Variant("song n4d", "n4d", lambda: run_song_bench(prog, cfg, sargs))
        if args.no_brian2:
            b2_v = Variant("song brian2", "Brian2", None)
            b2_v.unavailable = "--no-brian2"
        else:
            b2_v = brian2_variant("song brian2", "Brian2", "song.py", cfg, args.brian2_threads,
                                  args.song_duration)
        song = (n4d_v, b2_v)
        order += [n4d_v, b2_v]
    if not args.no_cuba:
        st, pl = os.path.abspath(args.cuba_static), os.path.abspath(args.cuba_stdp)
        durations["cuba"] = args.cuba_duration or config_duration_ms(st)
        if not args.cuba_duration and config_duration_ms(pl) != durations["cuba"]:
            sys.exit("plasticity: the static and the plastic CUBA configs differ in duration")
        d = args.cuba_duration
        cuba = {
            "n4d_static": Variant("cuba n4d static", "n4d static",
                                  lambda: run_n4d_checked(n4d, st, args.threads, d)),
            "brian2_static": None,
            "n4d_stdp": Variant("cuba n4d stdp", "n4d STDP",
                                lambda: run_n4d_checked(n4d, pl, args.threads, d)),
            "brian2_stdp": None,
        }
        for key, script, c, title in (("brian2_static", "cuba.py", st, "Brian2 static"),
                                      ("brian2_stdp", "cuba_stdp.py", pl, "Brian2 STDP")):
            if args.no_brian2:
                cuba[key] = Variant(key, title, None)
                cuba[key].unavailable = "--no-brian2"
            else:
                cuba[key] = brian2_variant(f"cuba {title}", title, script, c, args.brian2_threads, d)
        order += [cuba["n4d_static"], cuba["brian2_static"], cuba["n4d_stdp"], cuba["brian2_stdp"]]

    if cuba is not None:  # memory: one short song_bench run of the plastic config
        margs = ["--projection", "E->E", "--duration", "100", "--threads", str(args.threads)]
        try:
            cuba["bytes"] = run_song_bench(prog, pl, margs)
            cuba["bytes"]["command"] = " ".join([rel(prog), rel(pl), *margs])
        except Unavailable as e:
            cuba["bytes"] = str(e)
    log(f"plasticity: {args.reps} repetitions of {len(order)} variants; load average "
        f"{' '.join(mach.get('loadavg', ['?']))}")
    for rep in range(args.reps):
        for v in order:
            v.run(rep, args.reps)
    finished = datetime.datetime.now(datetime.timezone.utc)

    report = render(args, mach, commit, started, finished, song, cuba, durations)
    print(report)
    raw = os.path.join(OUT, "plasticity.json")
    with open(raw, "w") as f:
        json.dump({"machine": mach, "commit": commit, "started": started.isoformat(),
                   "command": sys.argv, "durations_ms": durations,
                   "variants": {v.key: {"runs": v.runs, "unavailable": v.unavailable,
                                        "compile_s": v.compile_s} for v in order}}, f, indent=1)
    log(f"plasticity: raw runs in {rel(raw)}")
    if args.out:
        write_section(args.out, report)
        log(f"plasticity: wrote the section into {rel(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
