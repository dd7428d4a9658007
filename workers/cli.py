"""The ``captionacc`` command. ``captionacc run VIDEO --out DIR`` is the main job."""

from __future__ import annotations

import argparse
import errno
import gzip
import hashlib
import json
import logging
import os
import shutil
import sys
import time
import uuid

# Ids for videos processed from the command line: one fixed local tenant, a video id derived
# from the file's content so reruns land in the same tree.
LOCAL_TENANT = str(uuid.uuid5(uuid.NAMESPACE_URL, "captionacc:local-tenant"))


def video_id_for(path: str, stream: int | None = None) -> str:
    """The whole file's content, hashed: two files that differ anywhere (an edit list in a
    trailing moov, a re-muxed copy of the same size) are two videos, never each other's run.
    BLAKE2b reads ~1 GB/s on one core: a second per gigabyte, against minutes of processing.
    Each ``--stream`` of a file is a video of its own."""
    h = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    h.update(str(os.path.getsize(path)).encode())
    tail = "" if stream is None else f":stream{stream}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "captionacc:video:" + h.hexdigest() + tail))


LIMIT_FLAGS = {  # --flag: (Limits field, type, help)
    "--max-pixels": ("max_pixels", int, "pixels per frame (CAPTIONACC_MAX_PIXELS; default 8K: 33,177,600)"),
    "--max-duration": ("max_duration_s", float, "seconds (CAPTIONACC_MAX_DURATION_S; default 14400)"),
    "--max-fps": ("max_fps", float, "frames within any one second (CAPTIONACC_MAX_FPS; default 240)"),
    "--max-gap": ("max_gap_s", float, "seconds with no new frame (CAPTIONACC_MAX_GAP_S; default 300)"),
    "--max-output-bytes": ("max_output_bytes", int,
                           "bytes one job may write (CAPTIONACC_MAX_OUTPUT_BYTES; default 16 GiB)"),
}


def _limits(base, args: argparse.Namespace):
    """Settings' limits, with the ones given on the command line replaced."""
    import dataclasses

    from tasks.errors import BadInput

    changes = {}
    for flag, (field, _, _) in LIMIT_FLAGS.items():
        value = getattr(args, field)
        if value is not None:
            if value <= 0:
                raise BadInput(f"{flag} must be positive (got {value:g})")
            changes[field] = value
    return dataclasses.replace(base, **changes)


def regular_file(given: str) -> str:
    """``given`` as an absolute path, or InvalidVideo naming it as the user typed it: missing,
    or not a regular file (a directory, a FIFO, a device: nothing to seek in or hash)."""
    from tasks.errors import InvalidVideo

    path = os.path.abspath(given)
    if not os.path.exists(path):
        raise InvalidVideo(f"video file not found: {given}")
    if not os.path.isfile(path):
        raise InvalidVideo(f"not a regular file: {given}")
    return path


def _remove_empty_dirs(path: str, top: str) -> None:
    """Remove ``path`` and its parents up to and including ``top`` while they are empty."""
    path, top = os.path.abspath(path), os.path.abspath(top)
    while path.startswith(top):
        try:
            os.rmdir(path)
        except OSError:
            return
        if path == top:
            return
        path = os.path.dirname(path)


OUTPUTS = ("captions.srt", "captions.vtt", "captions.db")


def _publish(files: dict[str, object]) -> None:
    """Write each file beside its final path, then rename them all over those paths: a reader
    never sees a torn file, a full disk leaves the previous file whole, and a planted symlink is
    replaced, never followed. ``files``: final path → a path to copy or a callable writing to a
    path."""
    done: list[tuple[str, str]] = []
    try:
        for final, src in files.items():
            tmp = os.path.join(os.path.dirname(final), f".{os.path.basename(final)}.{os.getpid()}.tmp")
            done.append((tmp, final))
            if callable(src):
                src(tmp)
            else:
                shutil.copyfile(src, tmp)
        for tmp, final in done:
            os.replace(tmp, final)
    finally:
        for tmp, _ in done:
            if os.path.lexists(tmp):
                os.unlink(tmp)


def _drop_stale_outputs(out: str) -> list[str]:
    """Captions left in ``out`` by an earlier run: removed when this run found none, so they
    cannot pass for this video's."""
    gone = []
    for name in OUTPUTS:
        path = os.path.join(out, name)
        if os.path.lexists(path) and not os.path.isdir(path):
            os.unlink(path)
            gone.append(name)
    return gone


class _Bars:
    """tqdm progress bars, one per long stage."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            for other in self.bars.values():  # one stage at a time: finish the previous bar
                other.close()
            bar = self.bars[stage] = tqdm(total=total, desc=f"{stage:>12}", unit="f", leave=True,
                                          dynamic_ncols=True)
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _cmd_run(args: argparse.Namespace) -> int:
    # The pipeline comes only once the input has been checked, so a mistyped path or a bad flag
    # answers at once; torch (~3 s to import) then loads in a thread beside extract.
    from tasks.errors import BadInput, CaptionAccError, InvalidCropRegion
    from tasks.keys import VideoKeys
    from tasks.storage import LocalStorage
    from tasks.types import CropRegion

    t0 = time.monotonic()
    video = regular_file(args.video)
    from tasks.settings import LOCAL_RUN_FIELDS, settings_for

    settings = settings_for(LOCAL_RUN_FIELDS)  # a bad S3 or Redis variable does not stop a local run
    ocr_name = args.ocr or settings.ocr
    lang = args.lang or settings.lang
    if ocr_name == "rapidocr":  # a language without a local model fails now, not after decoding
        from tasks.ocr.languages import check_lang

        check_lang(lang)
    from gpu_kernels.video import chosen_stream, probe, remux_stream

    limits = _limits(settings.limits, args)
    # Before the copy and the jobs: a file that is not a readable video, or goes over a limit
    # (CAPTIONACC_MAX_*), fails here, named as the user gave it.
    if args.stream is None:
        probe(video, limits, name=args.video)
    else:
        chosen_stream(video, args.stream)
    crops = [c for c in (args.crop or []) if c != "auto"]
    # Several regions by hand: repeat --crop, or separate them with ';'.
    regions = [CropRegion.parse(part) for c in crops for part in c.split(";") if part.strip()]
    if crops and not regions:
        raise InvalidCropRegion(f"no crop region in {';'.join(crops)!r}")
    out = os.path.abspath(args.out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise BadInput(f"--out {args.out} is a file, not a directory")
    storage = LocalStorage(out)
    keys = VideoKeys(LOCAL_TENANT, video_id_for(video, args.stream))
    dest = storage.path(keys.video)
    if args.stream is not None and os.path.exists(dest):
        probe(dest, limits, name=f"{args.video} stream {args.stream}")
    elif not os.path.exists(dest):  # the id is the content's: an existing copy is this video
        def link_or_copy(tmp: str) -> None:
            try:
                os.link(video, tmp)  # no copy of a large file when it's on the same filesystem
            except OSError:
                shutil.copyfile(video, tmp)

        def one_stream(tmp: str) -> None:
            remux_stream(video, args.stream, tmp)
            probe(tmp, limits, name=f"{args.video} stream {args.stream}")

        try:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            # A copy cut short, or a stream over a limit, never passes for the video.
            _publish({dest: link_or_copy if args.stream is None else one_stream})
        except BaseException:
            _remove_empty_dirs(os.path.dirname(dest), out)
            raise
    from tasks.context import JobContext
    from tasks.pipeline import run_video

    bars = _Bars(enabled=not args.quiet)
    ctx = JobContext(storage=storage, ocr_name=ocr_name, lang=lang, device_name=args.device or settings.device,
                     predictor_name=args.model or settings.extents_model, progress=bars, limits=limits,
                     refine_boundaries=settings.refine_boundaries, check_extents=settings.check_extents,
                     hw_decode=settings.hw_decode)
    from tasks.pipeline import NoCaptionsFound

    try:
        result = run_video(keys.video, keys.tenant_id, keys.video_id, ctx=ctx, regions=regions or None)
        model_version = ctx.predictor.model_version
        lang_used = ctx.caption_language
        if ctx.auto_language:
            lang_used = f"{lang_used or 'default'}, detected"
        ocr_used = ctx.ocr.name + (f" ({lang_used})" if lang_used else "")
    except NoCaptionsFound as e:
        gone = _drop_stale_outputs(out)
        if gone:
            raise NoCaptionsFound(f"{e} (removed {', '.join(gone)} of an earlier run from {args.out})") from e
        raise
    except CaptionAccError as e:  # name the user's file, not the working copy the jobs read
        if e.args and isinstance(e.args[0], str):
            e.args = (e.args[0].replace(dest, args.video).replace(keys.video, args.video), *e.args[1:])
        raise
    finally:
        bars.close()
        ctx.close()

    def unzip_db(dest: str) -> None:
        with gzip.open(storage.path(keys.captions_db), "rb") as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst)

    _publish({os.path.join(out, "captions.srt"): storage.path(keys.captions_srt),
              os.path.join(out, "captions.vtt"): storage.path(keys.captions_vtt),
              os.path.join(out, "captions.db"): unzip_db})
    wall = time.monotonic() - t0
    shown = ";".join(f"{r.crop_left:.3f},{r.crop_top:.3f},{r.crop_right:.3f},{r.crop_bottom:.3f}"
                     for r in (result.regions or [result.crop_region]))
    n_regions = len(result.regions or [result.crop_region])
    stages = {k: round(v, 2) for k, v in result.timings.items()}
    names = {"extract": "extract", "crop_infer": "crop+infer", "caption_ocr": "caption OCR"}
    if args.json:
        summary = {
            "video": args.video, "captions": len(result.captions), "duration_s": round(result.duration, 3),
            "wall_s": round(wall, 2), "stages_s": stages, "crop_source": result.crop_source,
            "crop_regions": [[r.crop_left, r.crop_top, r.crop_right, r.crop_bottom]
                             for r in (result.regions or [result.crop_region])],
            "extents_model": model_version, "ocr": ocr_used, "language": ctx.caption_language or None,
            "language_detected": ctx.auto_language,
            "outputs": {k: os.path.join(out, f"captions.{k}") for k in ("srt", "vtt", "db")},
        }

        def write_json(dest: str) -> None:
            with open(dest, "w", encoding="utf-8") as f:
                json.dump(summary, f, ensure_ascii=False, indent=1)
                f.write("\n")

        _publish({os.path.abspath(args.json): write_json})
    print(
        f"captions found: {len(result.captions)}\n"
        f"video duration: {result.duration:.1f} s   wall time: {wall:.1f} s "
        f"({result.duration / wall if wall else 0:.1f}x real time)\n"
        f"crop region{'s' if n_regions > 1 else ''} ({result.crop_source}): {shown}\n"
        f"stages: {', '.join(f'{names.get(k, k)} {v:.1f} s' for k, v in stages.items())}\n"
        f"extents model: {model_version}   ocr: {ocr_used}\n"
        f"wrote {os.path.join(out, 'captions.srt')}, captions.vtt, captions.db\n"
        f"artefacts: {os.path.join(out, keys.client)} and {os.path.join(out, keys.server)}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="captionacc", description="Burned-in captions → timed caption text.")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="process one video file end to end, locally")
    run.add_argument("video", help="video file with burned-in captions")
    run.add_argument("--out", required=True, help="output directory (captions + artefacts)")
    run.add_argument("--crop", action="append", default=None,
                     help="'auto' (every caption region suggested from OCR; the default) or L,T,R,B "
                          "fractions; repeat it, or separate regions with ';', for several regions")
    run.add_argument("--lang", default=None, help="caption language (ISO 639-1; CAPTIONACC_LANG): auto (the "
                     "default: detected from the video), zh, en, ja, es, fr, de, ... (the default recogniser), "
                     "ru, uk, bg, ko, vi (Tesseract, model from Debian's tesseract-ocr-<model>); several as ru,en")
    run.add_argument("--device", default=None, choices=["auto", "cpu", "cuda", "mps"],
                     help="where the model runs (default: CAPTIONACC_DEVICE, else auto)")
    run.add_argument("--ocr", default=None, choices=["rapidocr", "google-vision"],
                     help="OCR engine (default: CAPTIONACC_OCR, else rapidocr)")
    run.add_argument("--model", default=None, choices=["auto", "learned", "classical"],
                     help="caption-extents model (default: CAPTIONACC_EXTENTS_MODEL, else auto: learned when "
                          "its weights ship)")
    run.add_argument("--stream", type=int, default=None, metavar="N",
                     help="read video stream N (the container's numbering, as ffprobe's 0:N) instead of the one "
                          "chosen automatically (the default, largest moving-picture stream; never cover art)")
    limits = run.add_argument_group("limits (over one: exit 2, nothing published)")
    for flag, (field, kind, text) in LIMIT_FLAGS.items():
        limits.add_argument(flag, dest=field, type=kind, default=None, help=text)
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    run.add_argument("--json", metavar="FILE", help="also write the summary (captions, stage times, crop regions, "
                     "model, OCR engine and language) as JSON to FILE")
    run.set_defaults(func=_cmd_run)
    try:
        from . import cli_ops  # Celery/Modal/Prefect commands, when those parts are installed
    except ImportError:
        cli_ops = None
    if cli_ops is not None:
        cli_ops.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from gpu_kernels.errors import BadInput, CaptionAccError

    from pydantic import ValidationError

    try:
        return int(args.func(args) or 0)
    except BadInput as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    except CaptionAccError as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 3
    except ValidationError as e:  # a malformed CAPTIONACC_* value (environment or .env)
        bad = "; ".join(f"{'.'.join(map(str, err['loc'])).upper() or 'settings'}: {err['msg']}"
                        for err in e.errors())
        print(f"error: invalid setting: {_one_line(bad)}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as e:  # a .env that is not UTF-8
        print(f"error: cannot read settings: {_one_line(e)}", file=sys.stderr)
        return 2
    except OSError as e:  # the output directory: not writable, a file, on a full disk
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        print(f"error: {_one_line(e.strerror or e)}{_one_line(where)}", file=sys.stderr)
        return 2 if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR,
                                errno.ENOENT, errno.EEXIST) else 3
    except MemoryError:
        print("error: out of memory (try a smaller video, or a machine with more memory)", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _one_line(text: object, limit: int = 300) -> str:
    """An error as one line a terminal shows whole: a file name may hold newlines, a --crop
    value may be 100 KB."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
