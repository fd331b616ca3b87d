#!/usr/bin/env bash
# Everything the lent GPU machine runs, in one call of the device tool:
# the CUDA tests first, then the solver, training-step and fit timings.
# sktime travels as wheels in .whl/ (built beforehand with pip wheel on a machine that has them);
# each part has its own time limit so that the whole fits one call.
#   run: bash benchmarks/gpu.sh        (results and logs land in $OUT)
#        PARTS="step gpu_fit" bash benchmarks/gpu.sh    (some parts only)
set -uo pipefail
cd "$(dirname "$0")/.."  # the repository root: python -m benchmarks.<name> runs from here
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, sktime, sklearn, numpy, pandas; print('torch', torch.__version__, \
'sktime', sktime.__version__, 'sklearn', sklearn.__version__, 'numpy', numpy.__version__, \
'pandas', pandas.__version__, 'cores', __import__('os').cpu_count())" | tee -a "$OUT/gpu.txt"
start=$SECONDS
PARTS=${PARTS:-"test_cuda scan step gpu_fit"}
part() {  # part SECONDS NAME COMMAND...: run with a limit, log to $OUT/NAME.log
  local limit=$1 name=$2; shift 2
  [[ " $PARTS " == *" $name "* ]] || return 0
  echo "== $name (limit ${limit}s, at $((SECONDS - start))s)"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "== $name exit $? after $((SECONDS - start))s"; tail -n 25 "$OUT/$name.log"
}
part 110 test_cuda python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py
part 120 scan python3 -m benchmarks.scan --device cuda
part 100 step python3 -m benchmarks.step --devices cuda cpu --repeats 3 --budget 4
part 240 gpu_fit python3 -m benchmarks.gpu_fit --cpu-datasets BasicMotions JapaneseVowels
# each script writes its one results file (these overwrite the CPU tables here)
cp benchmarks/results/scan.md benchmarks/results/step.md benchmarks/results/step.json \
   benchmarks/results/gpu_fit.md "$OUT/" 2>/dev/null
ls "$OUT"
