#!/usr/bin/env python3
"""How many Google Vision calls a 1-hour video costs: one image per frame vs montages.

A Vision "unit" (what is billed) is one image × one feature; a request carries ≤ 16 images and
≤ 10 MB of JSON. Montages stack frames vertically within the limits (tasks/ocr/montage.py), so
one billed image covers many frames. Encoded sizes are modelled (bytes per pixel, see
``one_hour_estimates``); pass ``--measure`` to measure JPEG sizes on a real video instead.

    python benchmarks/vision_calls.py
    python benchmarks/vision_calls.py --measure video.mp4
"""

from __future__ import annotations

import argparse
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tasks.ocr.montage import VisionLimits, estimate_calls, one_hour_estimates  # noqa: E402

PRICE_PER_1000 = 1.50  # USD, DOCUMENT_TEXT_DETECTION units 1,001-5,000,000 / month (list price)


def measure_bytes_per_pixel(path: str, quality: int = 92, samples: int = 12) -> tuple[float, float, int, int]:
    """JPEG bytes/pixel of full frames and of their bottom 20% (caption band) in one video."""
    import av
    import numpy as np
    from PIL import Image

    full, crop = [], []
    with av.open(path) as c:
        s = c.streams.video[0]
        dur = float(s.duration * s.time_base) if s.duration else float(c.duration or 0) / 1e6
        for k in range(samples):
            c.seek(int((k + 0.5) / samples * dur / s.time_base), stream=s)
            frame = next(c.decode(s)).to_ndarray(format="rgb24")
            h, w = frame.shape[:2]
            for arr, out in ((frame, full), (frame[int(h * 0.8):], crop)):
                buf = io.BytesIO()
                Image.fromarray(np.ascontiguousarray(arr)).save(buf, "JPEG", quality=quality, optimize=True)
                out.append(len(buf.getvalue()) / (arr.shape[0] * arr.shape[1]))
    return float(np.mean(full)), float(np.mean(crop)), w, h


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--measure", metavar="VIDEO", help="measure JPEG bytes/pixel on this video")
    ap.add_argument("--max-frames-per-montage", type=int, default=0)
    args = ap.parse_args()
    limits = VisionLimits(max_tiles_per_montage=args.max_frames_per_montage)
    if args.measure:
        bpp_full, bpp_crop, w, h = measure_bytes_per_pixel(args.measure)
        print(f"measured on {args.measure} ({w}x{h}): full {bpp_full:.3f} B/px, caption band {bpp_crop:.3f} B/px")
        rows = []
        for name, (fw, fh) in {"1080p": (1920, 1080), "720p": (1280, 720)}.items():
            ch = round(fh * 0.2)
            rows += [estimate_calls(f"{name} full frames @0.1 Hz", 360, fw, fh, bpp_full, limits),
                     estimate_calls(f"{name} caption crops @0.1 Hz", 360, fw, ch, bpp_crop, limits),
                     estimate_calls(f"{name} caption medians (1/3 s)", 1200, fw, ch, bpp_crop, limits)]
    else:
        rows = one_hour_estimates(limits)
        print("assumed JPEG q92 sizes: full frames 0.12 B/px, caption crops (bottom 20%) 0.08 B/px")
    hdr = (f"{'1-hour video':34} {'frames':>6} {'KB/frame':>8} | {'per-frame imgs':>14} {'reqs':>5} "
           f"{'batched reqs':>12} | {'montage imgs':>12} {'reqs':>5} {'frames/img':>10} {'saving':>7} {'$ (montage)':>11}")
    print(hdr)
    print("-" * len(hdr))
    for e in rows:
        print(f"{e.label:34} {e.frames:6d} {e.bytes_per_frame / 1024:8.0f} | {e.per_frame_images:14d} "
              f"{e.per_frame_requests:5d} {e.per_frame_batched_requests:12d} | {e.montage_images:12d} "
              f"{e.montage_requests:5d} {e.frames_per_montage:10.1f} {e.saving:7.1%} "
              f"{e.montage_images * PRICE_PER_1000 / 1000:11.4f}")
    print(f"(per-frame cost at ${PRICE_PER_1000}/1000 images: 360 frames = ${360 * PRICE_PER_1000 / 1000:.2f}, "
          f"1200 = ${1200 * PRICE_PER_1000 / 1000:.2f})")


if __name__ == "__main__":
    main()
