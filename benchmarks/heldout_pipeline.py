#!/usr/bin/env python3
"""The whole pipeline (extract → crop & infer → caption OCR → merge) on the held-aside clips of
``extents_bench.py``, scored with ``../shared/score.py``, with the merge rule as shipped and as
it was before (every similar text joined). Not a test.

    python benchmarks/heldout_pipeline.py [--clips 16] [--out /tmp/extents-bench] [--weights PT]

The crop region is each clip's known caption band; the OCR engine is the configured one
(RapidOCR by default).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from extents_bench import load_scorer, make_set  # noqa: E402

import tasks.pipeline as pipeline  # noqa: E402
from gpu_kernels.extents.learned import LearnedPairClassifier  # noqa: E402
from gpu_kernels.video import probe  # noqa: E402
from tasks.context import JobContext  # noqa: E402
from tasks.keys import VideoKeys  # noqa: E402
from tasks.storage import LocalStorage  # noqa: E402
from tasks.subtitles import to_srt  # noqa: E402
from tasks.types import CropRegion  # noqa: E402

TENANT = "7d0c6a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6"
VIDEO = "8d9b2f4c-7e6a-4b1d-9c8e-f0e1d2c3b4a5"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--out", default="/tmp/extents-bench")
    ap.add_argument("--weights", help="learned checkpoint to use instead of the committed one")
    a = ap.parse_args()
    # One model and one OCR engine for all clips, as a worker keeps them.
    predictor = LearnedPairClassifier(weights_path=a.weights) if a.weights else None
    scorer = load_scorer()
    merge = pipeline.merge_captions
    seen: dict = {}
    lowest: list[float] = []  # every caption reading's OCR confidence

    def recording(caps, max_gap_frames=1, changes=None, min_confidence=0.0):  # what run_video hands the merge step
        seen.update(caps=caps, changes=changes, floor=min_confidence)
        lowest.extend(c.confidence for c in caps if c.text.strip())
        return merge(caps, max_gap_frames, changes, min_confidence)

    pipeline.merge_captions = recording
    totals = {"shipped": [0, 0, 0, 0], "join every similar text": [0, 0, 0, 0]}
    ocr = None
    for name, video, band in make_set(Path(a.out), a.clips, 0):
        if not name.startswith("heldout_"):
            continue
        info = probe(str(video))
        crop = CropRegion(band[0] / info.width, band[1] / info.height, band[2] / info.width, band[3] / info.height)
        with tempfile.TemporaryDirectory() as work:
            storage, keys = LocalStorage(work), VideoKeys(TENANT, VIDEO)
            os.makedirs(os.path.dirname(storage.path(keys.video)), exist_ok=True)
            os.link(video, storage.path(keys.video))
            ctx = JobContext(storage=storage, device_name="cpu", predictor_name="auto")
            ctx._ocr, ctx._predictor = ocr, predictor
            pipeline.run_video(keys.video, TENANT, VIDEO, crop, ctx=ctx)
            ocr, predictor = ctx.ocr, ctx.predictor
            for label, changes in (("shipped", seen["changes"]), ("join every similar text", None)):
                srt = Path(work) / "out.srt"
                srt.write_text(to_srt(pipeline.cues(merge(seen["caps"], changes=changes, min_confidence=seen["floor"]))),
                               encoding="utf-8")
                r = scorer.score_files(video.with_suffix(".json"), srt)
                for i, k in enumerate(("n_gt", "matched", "extra", "_on_time")):
                    totals[label][i] += r[k]
        print(f"{name} done", flush=True)
    print("\n== whole pipeline on the held-aside clips (targets: matched ≥ 0.98, boundaries ≥ 0.95, extra ≤ 0.02)")
    for label, (n, m, e, o) in totals.items():
        print(f"{label:26s} captions {n}  matched {m / max(n, 1):.4f}  boundaries≤0.1s {o / max(n, 1):.4f}  "
              f"extra {e / max(n, 1):.4f}")
    if lowest:  # how far the captions' OCR confidence stays above the engine's caption floor
        print(f"caption OCR confidence: lowest {min(lowest):.3f}, "
              f"{sum(c < 0.93 for c in lowest)} of {len(lowest)} readings under 0.93")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
