#!/usr/bin/env bash
# GPU suite (issue 19, item 4): everything worth measuring on one lent GPU, in one command that
# stops itself inside its time budget (default 450 s, under 8 minutes with Python/Ray start-up):
#
#   1. the CUDA-marked tests (pytest -m gpu);
#   2. metric throughput, ms/arch fused and per metric, batch 64, all metrics, NB201 and DARTS
#      cells (bench/metrics_throughput.py --device cuda --json ...);
#   3. the paper's six RoBoT metrics (grad_norm, snip, grasp, fisher, synflow, jacob_cov) for as
#      much of NB201 CIFAR-10 as the remaining time allows, on the Ray actor pool
#      (robot-ray precompute; the arch count comes from the measured fused ms/arch, and a timeout
#      cuts the run before the budget; shards written by then stay in the cache, resumable);
#
# then prints a summary of the figures (also in $OUT/summary.md). Logs, figures (JSON) and the
# cache go under $OUT (default ./gpu_suite_out, or --out DIR).
#
#   bash bench/gpu_suite.sh                 # on a GPU machine; refuses (exit 2) without CUDA
#   bash bench/gpu_suite.sh --dry-run       # same steps at tiny sizes on CPU (tests/test_gpu_suite.py)
#   bash bench/gpu_suite.sh --budget 300 --out /tmp/suite
#
# Data: $ROBOT_RAY_DATA, else ../shared/data (needs images/cifar10.npz and nasbench201/).
# Exit status: 0 all steps done (a precompute cut by the budget counts as done), 1 a step failed
# or timed out, 2 refused (no GPU, bad arguments, no data).
#
# Run on an H200 on 2026-12-04 as separate commands (steps 1-2; that machine has no Ray, so step 3
# now skips itself there): docs/precompute.md "First GPU figures". The precompute sizes below
# (actors per GPU) are still first guesses; the timeouts bound them.
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

DRY=0
BUDGET=450
OUT="${OUT:-./gpu_suite_out}"
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --budget) BUDGET="${2:?--budget needs seconds}"; shift ;;
        --out) OUT="${2:?--out needs a directory}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "gpu_suite: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$BUDGET" in ''|*[!0-9]*) echo "gpu_suite: --budget must be whole seconds, got $BUDGET" >&2; exit 2 ;; esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 2
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x .venv/bin/python ]; then PY="$REPO/.venv/bin/python"; else PY=python; fi
DATA="${ROBOT_RAY_DATA:-$REPO/../shared/data}"
if [ ! -f "$DATA/images/cifar10.npz" ] || [ ! -d "$DATA/nasbench201" ]; then
    echo "gpu_suite: data not found at $DATA (set ROBOT_RAY_DATA to the shared data directory)" >&2
    exit 2
fi
DATA="$(cd "$DATA" && pwd)"
export ROBOT_RAY_DATA="$DATA"

START=$(date +%s)
DEADLINE=$((START + BUDGET))
RESERVE=15          # seconds kept for the summary after the last step
left() { echo $((DEADLINE - RESERVE - $(date +%s))); }
# step_timeout WANT: WANT seconds, or what is left of the budget if that is less (at least 1)
step_timeout() { local l; l=$(left); [ "$l" -lt "$1" ] && echo $((l > 1 ? l : 1)) || echo "$1"; }

if [ "$DRY" = 1 ]; then
    DEVICE=cpu
else
    if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
        echo "gpu_suite: no CUDA GPU here (torch.cuda.is_available() is False): this suite measures a GPU" >&2
        echo "gpu_suite: and would only mislead on CPU. Run it on a GPU machine, or pass --dry-run to check" >&2
        echo "gpu_suite: the script itself at tiny sizes on CPU." >&2
        exit 2
    fi
    DEVICE=cuda
fi

mkdir -p "$OUT/logs" || exit 2
OUT="$(cd "$OUT" && pwd)"
CACHE="$OUT/cache_nb201_cifar10"
STATUS="$OUT/status.tsv"
: > "$STATUS"
RC=0

# Sizes. GPU: the figures the issue asks for. Dry run: the same steps, seconds each, on CPU.
ROBOT_METRICS=grad_norm,snip,grasp,fisher,synflow,jacob_cov
if [ "$DRY" = 1 ]; then
    T_TESTS=60
    TP_COMMON=(--batch-size 8 --repeats 1 --device cpu)
    TP_NB201=(--n-archs 2 --channels 4 --cells 1); T_NB201=60; MAX_NB201=5
    TP_DARTS=(--n-archs 1 --channels 4 --cells 3); T_DARTS=60; MAX_DARTS=5
    PC_SIZE=(--batch-size 8 --channels 4 --cells 1 --num-cpus 2 --num-actors 1 --gpus-per-actor 0 --shard-size 2)
    PC_ARCHS=2
else
    T_TESTS=60
    TP_COMMON=(--batch-size 64 --repeats 3 --device cuda)
    TP_NB201=(--n-archs 20); T_NB201=90; MAX_NB201=45
    TP_DARTS=(--n-archs 10); T_DARTS=110; MAX_DARTS=60
    # several actors share the GPU: the default-size networks leave most of an H200 idle
    PC_SIZE=(--batch-size 64 --gpus-per-actor "${GPUS_PER_ACTOR:-0.125}" --cpus-per-actor 1 --shard-size 64)
    PC_ARCHS=""      # from the measured NB201 fused ms/arch, below
fi

# run NAME TIMEOUT CMD...: run a step under timeout (SIGINT first, KILL 15 s later), log it, record its status
run() {
    local name="$1" t="$2"; shift 2
    local t0 rc
    t0=$(date +%s)
    echo "== $name (timeout ${t}s): $*"
    timeout -s INT -k 15 "$t" "$@" > "$OUT/logs/$name.log" 2>&1
    rc=$?
    printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - t0 ))" "$t" >> "$STATUS"
    tail -n 5 "$OUT/logs/$name.log" | sed 's/^/   | /'
    return $rc
}

{
    echo "date: $(date -u +%FT%TZ)"; echo "commit: $(git rev-parse --short HEAD 2>/dev/null)"
    echo "dry_run: $DRY"; echo "budget_s: $BUDGET"
    "$PY" -c 'import torch; print("torch:", torch.__version__, "cuda:", torch.version.cuda,
              "device:", torch.cuda.get_device_name() if torch.cuda.is_available() else "none")'
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
} > "$OUT/machine.txt" 2>&1

# 1. CUDA-marked tests: only the files that carry the mark are collected (the marked tests skip
#    themselves without CUDA). Collecting the whole suite would import Ray and Ax, which a lent
#    GPU machine may not have (the H200 image has PyTorch but no Ray).
mapfile -t GPU_FILES < <(grep -rl --include='test_*.py' 'mark\.gpu' tests)
run gpu_tests "$(step_timeout $T_TESTS)" "$PY" -m pytest -m gpu -q -p no:cacheprovider "${GPU_FILES[@]}"
case $? in 0|5) ;; *) RC=1 ;; esac   # 5: no test collected

# 2. Throughput, fused and one metric at a time, both cell spaces.
run throughput_nb201 "$(step_timeout $T_NB201)" "$PY" bench/metrics_throughput.py --space nb201 --dataset cifar10 \
    --data-dir "$DATA" "${TP_COMMON[@]}" "${TP_NB201[@]}" --max-seconds $MAX_NB201 --json "$OUT/throughput_nb201.json" || RC=1
run throughput_darts "$(step_timeout $T_DARTS)" "$PY" bench/metrics_throughput.py --space darts --dataset cifar10 \
    --data-dir "$DATA" "${TP_COMMON[@]}" "${TP_DARTS[@]}" --max-seconds $MAX_DARTS --json "$OUT/throughput_darts.json" || RC=1

# 3. Precompute the six RoBoT metrics for as much of NB201 CIFAR-10 as the time left allows.
T_PC=$(left)
if ! "$PY" -c 'import ray' 2>/dev/null; then
    # the lent H200 image has PyTorch but no Ray, and a Ray wheel does not fit what travels with a
    # command: steps 1-2 are still worth their figures, so this is a skip, not a failure
    echo "== precompute: skipped, Ray is not installed here (the actor pool needs it)"
    printf 'precompute\tskipped: no Ray\t0\t%s\n' "$T_PC" >> "$STATUS"
elif [ "$T_PC" -lt 30 ]; then
    echo "== precompute: skipped, only ${T_PC}s left of the budget"
    printf 'precompute\tskipped\t0\t%s\n' "$T_PC" >> "$STATUS"
    RC=1
else
    if [ -z "$PC_ARCHS" ]; then
        # archs the pool can do in the time left: 20 s of Ray and actor start-up, then the measured
        # single-stream fused rate times 2 for the actors sharing the GPU (a guess; the timeout bounds it),
        # whole shards, at least one shard, at most the 15625 NB201 archs.
        PC_ARCHS=$("$PY" - "$OUT/throughput_nb201.json" "$T_PC" <<'EOF'
import json, sys
try:
    ms = json.load(open(sys.argv[1]))["fused_ms_per_arch"]
except (OSError, ValueError, KeyError):
    ms = 200.0  # no figure from step 2: a cautious guess
n = int((int(sys.argv[2]) - 20) * 1000 / ms * 2) // 64 * 64
print(max(64, min(15625, n)))
EOF
)
    fi
    echo "$PC_ARCHS" > "$OUT/precompute_archs_requested.txt"
    run precompute "$T_PC" "$PY" -m robot_ray precompute --space nb201 --dataset cifar10 --data-dir "$DATA" \
        --metrics $ROBOT_METRICS --archs "0-$((PC_ARCHS - 1))" --seed 0 --out "$CACHE" --quiet "${PC_SIZE[@]}"
    case $? in 0|124|130) ;; *) RC=1 ;; esac   # 124/130: cut by the budget; the written shards stay
fi

# Summary of the figures.
"$PY" - "$OUT" "$CACHE" "$START" "$RC" <<'EOF' > "$OUT/summary.md"
import glob, json, os, sys, time
out, cache, start, rc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print("# GPU suite summary\n")
print("\n".join(f"- {line}" for line in open(os.path.join(out, "machine.txt")).read().splitlines()))
print("\n| step | exit | seconds | timeout s |\n|---|---|---|---|")
for row in open(os.path.join(out, "status.tsv")):
    print("| " + " | ".join(row.rstrip("\n").split("\t")) + " |")
log = os.path.join(out, "logs", "gpu_tests.log")
if os.path.exists(log):
    last = [l for l in open(log).read().splitlines() if l.strip()]
    print(f"\ngpu tests: {last[-1] if last else '(no output)'}")
print("\n| cells | archs | device | batch | fused ms/arch | one-at-a-time ms/arch | speed-up | max rel diff |")
print("|---|---|---|---|---|---|---|---|")
per = {}
for space in ("nb201", "darts"):
    path = os.path.join(out, f"throughput_{space}.json")
    if not os.path.exists(path):
        print(f"| {space} | - | - | - | (no figures: see logs/throughput_{space}.log) | | | |")
        continue
    f = json.load(open(path))
    size = ", ".join(f"{k}={v}" for k, v in f["size"].items())
    print(f"| {space} ({size}) | {f['archs']} | {f['device_name']} | {f['batch_size']} | {f['fused_ms_per_arch']:.1f} | "
          f"{f['alone_ms_per_arch']:.1f} | {f['speedup']:.2f}x | {f['max_rel_diff']:.1e} |")
    per[space] = f["per_metric_ms_per_arch"]
if per:
    names = list(next(iter(per.values())))
    print("\nalone, ms/arch per metric:\n\n| metric | " + " | ".join(per) + " |\n|---|" + "---|" * len(per))
    for n in names:
        print(f"| {n} | " + " | ".join(f"{per[s].get(n, float('nan')):.1f}" for s in per) + " |")
req_path = os.path.join(out, "precompute_archs_requested.txt")
try:
    if not os.path.exists(req_path):
        raise RuntimeError("not run (see the step table: no Ray, or too little of the budget left)")
    import pyarrow.parquet as pq
    files = sorted(glob.glob(os.path.join(cache, "shard-*.parquet")))
    rows = sum(pq.read_metadata(p).num_rows for p in files)
    try:
        from robot_ray.cache.table import read_cache_table
        read_cache_table(cache)
        state = "complete"
    except Exception as exc:  # partial (cut by the budget) or failed
        state = f"incomplete ({type(exc).__name__}); rerun the same precompute command to resume"
    req = open(req_path).read().strip()
    status = {r.split("\t")[0]: r.rstrip("\n").split("\t") for r in open(os.path.join(out, "status.tsv"))}
    secs = status.get("precompute", ["", "", "?"])[2]
    print(f"\nprecompute NB201 cifar10 (six RoBoT metrics): {rows} of {req} requested archs in {len(files)} shards, "
          f"{secs} s wall (Ray start-up included), cache {state}: {cache}")
except Exception as exc:
    print(f"\nprecompute: no cache figures ({exc})")
print(f"\ntotal wall: {int(time.time()) - start} s; suite exit status {rc}")
EOF
echo
cat "$OUT/summary.md"
exit $RC
