#!/usr/bin/env bash
# What benchmarks/gpu_check.py needs on a lent GPU machine, in two carries of under 64 MiB each.
#
# The machine (the device tool's nvidia-h200) has Python 3.12 with torch, numpy, pillow,
# onnxruntime and opencv, but not PyAV, RapidOCR, pydantic or a CJK font, and reaches no
# package index. PyAV (36 MB) and RapidOCR (27 MB) do not fit in one carry with the tree, so
# the check runs in two calls on one warm machine; /tmp/site and the generated clip stay between.
#
#   bash benchmarks/gpu_carry.sh          # here: fills .gpu-a/ and .gpu-b/ (git-ignored)
# then, with the device tool:
#   run carry=[".gpu-a"]  command: see the CALL 1 line this prints
#   run carry=[".gpu-b"]  command: see the CALL 2 line (within the machine's warm time)
set -euo pipefail
cd "$(dirname "$0")/.."
PYVER="${PYVER:-3.12}"
C=deploy/constraints.txt
pin() { grep -i "^$1==" "$C" | head -1; }
dl() {
    local dir=$1; shift
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d "$dir" "$@"
}
for d in .gpu-a .gpu-b; do
    grep -qx "/$d/" .git/info/exclude 2>/dev/null || echo "/$d/" >> .git/info/exclude
    rm -rf "$d" && mkdir -p "$d"
done
# Call 1: device, NVDEC decode, model, VP9, and the clip (PyAV, a CJK font, the scorer).
dl .gpu-a "$(pin av)"
font=$(python3 -c "import sys; sys.path.insert(0, '.'); from synth.fonts import cjk_font; print(cjk_font())")
cp "$font" .gpu-a/cjk-font."${font##*.}"
cp ../shared/score.py .gpu-a/ && cp ../shared/score.py .gpu-b/
# Call 2: the whole pipeline (RapidOCR and its needs, the settings' pydantic).
dl .gpu-b "$(pin rapidocr)" "$(pin omegaconf)" "$(pin pyclipper)" \
    "$(pin shapely)" "$(pin pydantic)" "$(pin pydantic_core)" "$(pin pydantic-settings)" "$(pin python-dotenv)" \
    "$(pin annotated-types)" "$(pin typing-inspection)" "$(pin colorlog)"
du -sh .gpu-a .gpu-b
font_file=$(ls .gpu-a/cjk-font.*)
setup='python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site'
env="export PYTHONPATH=/tmp/site:\$PWD CAPTIONACC_CJK_FONT=\$PWD/$font_file PYTHONUNBUFFERED=1"
echo "CALL 1: $setup .gpu-a/*.whl && $env && python3 benchmarks/gpu_check.py --steps device,decode,model,vp9 --scorer .gpu-a/score.py --out \$OUT/gpu_check_1.json"
echo "CALL 2: $setup .gpu-b/*.whl && $env && python3 benchmarks/gpu_check.py --steps pipeline --scorer .gpu-b/score.py --out \$OUT/gpu_check_2.json"
