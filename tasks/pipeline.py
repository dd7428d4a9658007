"""The whole video: extract → crop region → crop & infer → caption extents → OCR → captions.

Runs the three jobs in-process on one storage; workers run the same steps through Celery,
Modal or Prefect. Publishes ``captions.db.gz``, ``captions.srt`` and ``captions.vtt``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gpu_kernels.extents.base import BACKWARD_OF, DIFFERENT, PairProbs
from gpu_kernels.text import bare, edit_distance

from .context import JobContext, settle_heap
from .databases import CAPTIONS_SCHEMA, open_db, new_db, publish_db, set_metadata
from .errors import CaptionAccError
from .extract import extract_frames_and_ocr
from .keys import VideoKeys
from .ocr import caption_floor
from .scene_text import load_scene_texts, scene_texts_of
from .subtitles import Cue, to_srt, to_vtt
from .types import HESITATION_SCORE, CropInferResult, CropRegion, ExtractResult

if TYPE_CHECKING:
    from .crop_infer import CaptionExtent

# The crop-and-infer and caption-OCR stages (.crop_infer, .caption_ocr) bring torch (~3 s to
# import): run_video imports them while extract reads its frames (preload_inference).

log = logging.getLogger(__name__)


class NoCaptionsFound(CaptionAccError):
    """The video was processed but no caption was found in the crop region."""


@dataclass
class Caption:
    start_frame: int  # 10 Hz index, inclusive
    end_frame: int  # exclusive
    start: float  # seconds
    end: float
    text: str
    confidence: float
    frame_count: int
    region_index: int = 0  # the caption region it was read in (PipelineResult.regions)
    probed: bool = False  # read where only a probe of the model's brief hesitation saw text


@dataclass
class PipelineResult:
    captions: list[Caption]
    crop_region: CropRegion  # region 0, the primary one
    crop_source: str  # "suggested" | "default" | "given"
    duration: float
    extract: ExtractResult | None
    crop_infer: CropInferResult
    keys: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    regions: list[CropRegion] = field(default_factory=list)  # every region cropped, region 0 first


def frames_to_seconds(start_frame: int, end_frame: int, duration: float) -> tuple[float, float]:
    """10 Hz interval → seconds when no boundary was refined (:func:`tasks.crop_infer.grid_seconds`)."""
    from .crop_infer import grid_seconds

    return grid_seconds(start_frame, end_frame, duration)


def similar_text(a: str, b: str) -> bool:
    """Same caption read twice with OCR noise: edit distance within 20% of the longer text."""
    if a == b:
        return True
    if not a or not b:
        return False
    return edit_distance(a, b) <= 0.2 * max(len(a), len(b))


# P(different) at a back-to-back junction from which two similar texts are kept apart: the
# model saw the caption change there, so a one-character difference is real, not OCR noise.
CHANGE_SURE = 0.5
# Spans this short (10 Hz frames) beside a caption with similar text are a fade's steps.
FADE_STEP_FRAMES = 2


def change_at(probs: PairProbs, frame: int) -> float:
    """P(the caption changed between 10 Hz frames ``frame-1`` and ``frame``), both readings."""
    k = frame - 1
    if not 0 <= k < len(probs):
        return 0.0
    return float(0.5 * (probs.forward[k, DIFFERENT] + probs.backward[k, BACKWARD_OF[DIFFERENT]]))


PART_MIN_CHARS = 4  # letters/digits/CJK characters


def _part_of(p: Caption, c: Caption) -> bool:
    """One text is the other's beginning or end, or inside it: a caption that animates in or
    out a word at a time, or a read cut short at a span's edge. The longer text is the caption.
    A part under ``PART_MIN_CHARS`` is a caption of its own ("过分" then "太过分": emphasis,
    not animation)."""
    a, b = sorted((bare(p.text), bare(c.text)), key=len)
    return len(a) >= PART_MIN_CHARS and a != b and a in b


def _same_caption(p: Caption, c: Caption, changes: dict[int, float] | None) -> bool:
    if p.text.split() == c.text.split() or bare(p.text) == bare(c.text):
        return True  # one caption split by a background change or scene cut (its final "." read late)
    if _part_of(p, c) and c.start_frame - p.end_frame <= 1:
        return True
    if not similar_text(p.text, c.text):
        return False
    # Similar but not equal: OCR noise on one caption, or a true one-character change. A step
    # of a fade (a 0.1-0.2 s span beside the caption, read with a glyph wrong) is the former.
    if min(p.end_frame - p.start_frame, c.end_frame - c.start_frame) <= FADE_STEP_FRAMES:
        return True
    back_to_back = c.start_frame == p.end_frame
    return not (changes and back_to_back and changes.get(c.start_frame, 0.0) >= CHANGE_SURE)




# One text read on both sides of a gap this short (10 Hz frames) is one caption the model lost
# for a moment: a hard cut under a caption read as its end and a new start (cuts benchmark,
# fast_cuts_zh: 13.48-13.81 s and 14.01-16.05 s, one caption). A line of PART_MIN_CHARS or
# more is not shown again 0.2 s after it went; a short one ("No.") may well be said twice.
SAME_TEXT_GAP_FRAMES = 2


def _same_text(p: Caption, c: Caption) -> bool:
    return len(bare(p.text)) >= PART_MIN_CHARS and bare(p.text) == bare(c.text)


# A lone glyph shown for less than this is texture flashing through the band (a letter of a
# sign as the camera passes, a probe's misread), not a cue: one character is not captioned that
# briefly. Checked after joining, so a one-glyph fade step beside its caption is not lost.
# One letter of an alphabet is no caption however long it shows (a letter block read "U" for
# 0.7-0.9 s, a watermark's "T": mixed2 benchmark); a digit may be (a countdown), and one CJK
# character or Hangul syllable is a word ("好", "네").
LONE_GLYPH_MAX_S = 0.5


def _lone_glyph(c: Caption, letters: str) -> bool:
    if len(letters) >= 2:
        return False
    return not letters or c.end - c.start < LONE_GLYPH_MAX_S or _script(letters) not in (None, "CJK")


# Readings that are no caption whatever the engine's confidence: no letter or digit at all (a
# quote mark read off a letter block), or shown under one frame of 10 Hz. And a reading of one
# to SHORT_CHARS letters needs SHORT_FLOOR where the engine has a caption floor: Tesseract read
# textured scene through a caption band as "r", "시", "เซ" at 0.48-0.71, the mixed benchmark's
# captions at 0.70-0.96, most of them long (RapidOCR's floor, 0.85, is above it already).
MIN_CUE_S = 0.1  # compared less 0.01 s: a one-sample span's refined times may differ by 0.099 s
SHORT_CHARS = 2
SHORT_FLOOR = 0.75


def merge_captions(caps: list[Caption], max_gap_frames: int = 1,
                   changes: dict[int, float] | None = None, min_confidence: float = 0.0) -> list[Caption]:
    """Drop empty texts and readings under ``min_confidence`` (:func:`caption_floor`); join
    neighbours showing the same text (a split by background change); drop a lone glyph shown
    under ``LONE_GLYPH_MAX_S`` and one alphabet letter alone (:func:`_lone_glyph`), and one or
    two glyphs in a script the other captions do not use (:func:`_foreign_glyphs`).

    ``changes`` (start frame → :func:`change_at`) keeps back-to-back captions whose texts are
    similar but not equal apart where the model was sure the caption changed."""
    out: list[Caption] = []
    for c in caps:
        letters = bare(c.text)
        if not letters or c.confidence < min_confidence or c.end - c.start < MIN_CUE_S - 0.01:
            continue
        if min_confidence and len(letters) <= SHORT_CHARS and c.confidence < SHORT_FLOOR:
            continue
        gap = c.start_frame - out[-1].end_frame if out else None
        if out and (gap <= max_gap_frames and _same_caption(out[-1], c, changes)
                    or gap <= SAME_TEXT_GAP_FRAMES and _same_text(out[-1], c)):
            p = out[-1]
            if _part_of(p, c):
                keep = p if len(bare(p.text)) > len(bare(c.text)) else c
            else:
                keep = p if (p.end_frame - p.start_frame) * p.confidence >= (c.end_frame - c.start_frame) * c.confidence else c
            out[-1] = Caption(p.start_frame, c.end_frame, p.start, c.end, keep.text,
                              max(p.confidence, c.confidence), p.frame_count + c.frame_count,
                              p.region_index, p.probed and c.probed)
        else:
            out.append(c)
    out = [c for c in out if not _lone_glyph(c, bare(c.text))]
    out = _without_weak_probed(out)
    out = [c for c in out if not _foreign_glyphs(c, out)]
    if out and all(c.region_index > 0 for c in out):
        out = _without_shot_text(out)
    return out


# In a caption region other than the primary one, one text (near-copies: RECUR_SIMILAR) shown
# in spans SHOT_GAP_S or more apart is a shot the edit cuts back to, its sign or livery read
# each time (cuts2 benchmark: "SAMTW" four times in a mid-frame band the station sign made a
# region of). Lines under RECUR_MIN_CHARS letters may well be said twice. Never in the primary
# region, whose captions repeat (a chorus, a catchphrase).
SHOT_GAP_S = 3.0


def _without_shot_text(caps: list[Caption]) -> list[Caption]:
    from difflib import SequenceMatcher

    from gpu_kernels.layout import RECUR_MIN_CHARS, RECUR_SIMILAR

    texts = [bare(c.text) for c in caps]
    drop: set[int] = set()
    for i, t in enumerate(texts):
        if i in drop or len(t) < RECUR_MIN_CHARS:
            continue
        group = [j for j, u in enumerate(texts) if len(u) >= RECUR_MIN_CHARS
                 and (u == t or SequenceMatcher(None, t, u, autojunk=False).ratio() >= RECUR_SIMILAR)]
        if any(caps[b].start - caps[a].end >= SHOT_GAP_S for a, b in zip(group, group[1:])):
            drop.update(group)
    return [c for k, c in enumerate(caps) if k not in drop]


# A caption found only by the extent check's probe of a brief hesitation of the model (no span
# decoded there, no layout sighting) must read within PROBED_MARGIN of the least sure of the
# PROBED_CONTEXT or more captions the model did find in its region: those probes read scene
# texture too ("加工" at 0.86 among captions read at 0.98-1.0; Thai garble at 0.69 among
# tesseract readings of 0.81-0.91), while a cue the model was blind to reads like its
# neighbours. Gaps probed for the layout's sightings are not judged so: white text without an
# outline, which the model misses, reads less surely than the captions it finds.
PROBED_MARGIN = 0.05
PROBED_CONTEXT = 2


def _without_weak_probed(caps: list[Caption]) -> list[Caption]:
    found = [c.confidence for c in caps if not c.probed]
    if len(found) < PROBED_CONTEXT:
        return caps
    bar = min(found) - PROBED_MARGIN
    return [c for c in caps if not c.probed or c.confidence >= bar]


# A reading of at most this many Chinese, Japanese or Korean characters where under
# FOREIGN_SHARE of the other captions' characters are (with at least FOREIGN_CONTEXT of them)
# is scene text: a Portuguese video's captions are never one Chinese character, but letter
# blocks and signs read that way are held for seconds (pt_blocks: 区 three times, 0.7-2.9 s).
# Not the other way round: "OK" or "No" alone is a caption of a Chinese video.
FOREIGN_MAX_CHARS = 2
FOREIGN_SHARE = 0.05
FOREIGN_CONTEXT = 20


def _script(ch: str) -> str | None:
    """A character's script, coarsely (Han, kana and Hangul are one: CJK); None for digits
    and characters without a name."""
    if ch.isdigit():
        return None
    try:
        word = unicodedata.name(ch).split()[0]
    except ValueError:
        return None
    return "CJK" if word in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL") else word


def _foreign_glyphs(c: Caption, captions: list[Caption]) -> bool:
    mine = {_script(ch) for ch in bare(c.text)} - {None}
    if not 0 < len(bare(c.text)) <= FOREIGN_MAX_CHARS or len(mine) != 1:
        return False
    (script,) = mine
    if script != "CJK":
        return False
    others = [s for o in captions if o is not c and len(bare(o.text)) > FOREIGN_MAX_CHARS
              for s in map(_script, bare(o.text)) if s is not None]
    return len(others) >= FOREIGN_CONTEXT and others.count(script) < FOREIGN_SHARE * len(others)


def across_regions(captions: list[Caption]) -> list[Caption]:
    """Every region's captions, in time order, less one or two glyphs of a script the video's
    captions in all its regions do not use (:func:`_foreign_glyphs`): a letter block read "回"
    again and again in a second region of an English video has no captions of its own to be
    foreign among (cuts3 cut_scene_text_en)."""
    out = [c for c in captions if not _foreign_glyphs(c, captions)]
    return sorted(out, key=lambda c: (c.start_frame, c.region_index))


def suggested_crop(storage, layout_db_key: str) -> tuple[CropRegion, str]:
    """(crop region, "suggested" | "default") from ``layout_config`` of a layout.db."""
    with open_db(storage, layout_db_key) as conn:
        return _layout_config(conn)


def _layout_config(conn) -> tuple[CropRegion, str]:
    row = conn.execute(
        "SELECT crop_left, crop_top, crop_right, crop_bottom, anchor_type FROM layout_config"
    ).fetchone()
    return CropRegion(*row[:4]), ("suggested" if row[4] != "default" else "default")


def suggested_regions(storage, layout_db_key: str) -> tuple[list[CropRegion], str]:
    """Every caption region a layout.db suggests, primary first, and "suggested" | "default".
    A layout.db written before regions existed holds one (layout_config)."""
    return _layout_plan(storage, layout_db_key)[:2]


def _layout_plan(storage, layout_db_key: str) -> tuple[list[CropRegion], str, tuple[str, ...]]:
    """:func:`suggested_regions` and the scene texts, from one read of the layout.db."""
    with open_db(storage, layout_db_key) as conn:
        region, source = _layout_config(conn)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        rows = (conn.execute("SELECT crop_left, crop_top, crop_right, crop_bottom FROM layout_regions"
                             " ORDER BY region_index").fetchall() if "layout_regions" in tables else [])
        scene = scene_texts_of(conn)
    return ([CropRegion(*r) for r in rows] or [region]), source, scene


def caption_intervals(storage, caption_frame_extents_db_key: str, region: int = 0
                      ) -> tuple[list[CaptionExtent], dict, dict[int, float]]:
    """The captions a crop-and-infer run decoded (and refined) in one region, the run's
    metadata, and the model's P(different) at each caption's first frame (for
    :func:`merge_captions`)."""
    from .crop_infer import load_extents, load_predictions

    with open_db(storage, caption_frame_extents_db_key) as conn:
        probs, meta = load_predictions(conn, region)
        extents = load_extents(conn, region)
    return extents, meta, {e.start_frame: change_at(probs, e.start_frame) for e in extents}


def run_video(
    video_key: str,
    tenant_id: str,
    video_id: str,
    crop_region: CropRegion | None = None,
    *,
    ctx: JobContext | None = None,
    regions: list[CropRegion] | None = None,
) -> PipelineResult:
    """The whole video. Caption regions: ``regions`` (several given by hand), else
    ``crop_region`` (one, forced), else every region the layout step suggests. All regions are
    cropped in one decode pass; each gets its own extents and caption OCR; their captions are
    merged in time order."""
    ctx = ctx or JobContext.from_env()
    keys = VideoKeys(tenant_id, video_id)
    timings: dict[str, float] = {}
    t = time.monotonic()
    preload = preload_inference(ctx)
    extract = extract_frames_and_ocr(video_key, tenant_id, video_id, ctx=ctx)
    timings["extract"] = time.monotonic() - t
    preload.join()
    from .crop_infer import crop_and_infer_caption_frame_extents
    from .rejoin import rejoin_pieces
    source = "given"
    scene = None
    if regions:
        regions = [CropRegion.parse(r) for r in regions]
    elif crop_region is not None:
        regions = [CropRegion.parse(crop_region)]
    else:
        regions, source, scene = _layout_plan(ctx.storage, extract.layout_db_key)
    t = time.monotonic()
    ci = crop_and_infer_caption_frame_extents(video_key, tenant_id, video_id, regions[0], ctx=ctx,
                                              extra_regions=regions[1:])
    timings["crop_infer"] = time.monotonic() - t
    t = time.monotonic()
    captions: list[Caption] = []
    meta: dict = {}
    if scene is None:
        scene = load_scene_texts(ctx.storage, keys.layout_db)
    for reg in ci.regions or ({"region_index": 0, "cropped_frames_prefix": ci.cropped_frames_prefix},):
        k = reg["region_index"]
        intervals, meta_k, changes = caption_intervals(ctx.storage, ci.caption_frame_extents_db_key, k)
        meta = meta or meta_k
        caps = rejoin_pieces(_read_captions(reg["cropped_frames_prefix"], intervals, k, ctx, scene),
                             _rereader(reg["cropped_frames_prefix"], intervals, ctx, scene))
        captions += merge_captions(caps, changes=changes, min_confidence=caption_floor(ctx.ocr.name))
    timings["caption_ocr"] = time.monotonic() - t
    captions = across_regions(captions)
    if not captions:
        raise NoCaptionsFound(
            f"no captions found in crop region{'s' if len(regions) > 1 else ''} "
            f"{', '.join(str(r.as_tuple()) for r in regions)} ({source}); "
            "check the region (--crop L,T,R,B) or the video"
        )
    publish_captions(ctx.storage, keys, captions, meta.get("model_version", "?"), ctx.ocr.name,
                     regions=regions)
    return PipelineResult(captions, regions[0], source, extract.duration, extract, ci,
                          keys={"captions_db": keys.captions_db, "srt": keys.captions_srt,
                                "vtt": keys.captions_vtt}, timings=timings, regions=regions)


def preload_inference(ctx: JobContext) -> threading.Thread:
    """Import the crop-and-infer and caption-OCR stages (torch) and load the extents model in a
    thread, while the caller runs extract: the OCR engine's threads leave a core room for it
    most of the time (~3 s of a 1-min clip's ~12 s). The OCR engine is loaded first, here, so
    the two threads never import one module at once. A failure is left to the stage to raise."""
    ctx.ocr

    def load() -> None:
        try:
            # Lowest priority: the OCR engine's threads come first, the import takes what they
            # leave (on 2 cores, at equal priority it slowed extract more than it saved).
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):  # not Linux: a thread's priority is the process's
            pass
        try:
            from . import caption_ocr, crop_infer  # noqa: F401

            ctx.predictor
        except Exception:  # noqa: BLE001 - crop-and-infer loads it again and reports the error
            log.debug("preloading the extents model failed", exc_info=True)
        settle_heap()

    thread = threading.Thread(target=load, name="preload-inference", daemon=True)
    thread.start()
    return thread


def _read_captions(prefix: str, intervals: list[CaptionExtent], region_index: int,
                   ctx: JobContext, scene: tuple[str, ...] | None = None) -> list[Caption]:
    from .caption_ocr import ocr_captions

    caps = []
    ctx.progress("caption-ocr", 0, len(intervals))
    results = ocr_captions(prefix, [(iv.start_frame, iv.end_frame) for iv in intervals], ctx=ctx,
                           scene=scene)
    for n, (iv, r) in enumerate(zip(intervals, results), 1):
        caps.append(Caption(iv.start_frame, iv.end_frame, iv.start_time, iv.end_time, r.ocr_text,
                            r.confidence, r.frame_count, region_index, iv.score <= HESITATION_SCORE))
        ctx.progress("caption-ocr", n, len(intervals))
    return caps


def _rereader(prefix: str, intervals: list[CaptionExtent], ctx: JobContext,
              scene: tuple[str, ...] | None):
    """``reread(start, end)`` for :func:`tasks.rejoin.rejoin_pieces`: frames [start, end) read as
    one caption, the region's other intervals kept out of its caption-free references."""
    from .caption_ocr import ocr_captions
    from .rejoin import others

    spans = [(iv.start_frame, iv.end_frame) for iv in intervals]

    def reread(start: int, end: int):
        return next(iter(ocr_captions(prefix, [(start, end)], ctx=ctx, scene=scene,
                                      known=others(spans, start, end))))

    return reread


def cues(captions: list[Caption], regions: list[CropRegion] | None = None) -> list[Cue]:
    def line(c: Caption) -> float | None:
        if not regions or not 0 <= c.region_index < len(regions):
            return None
        return regions[c.region_index].crop_top
    return [Cue(c.start, c.end, c.text, line(c)) for c in captions]


def publish_captions(storage, keys: VideoKeys, captions: list[Caption], model_version: str,
                     ocr_engine: str, regions: list[CropRegion] | None = None) -> None:
    srt = to_srt(cues(captions))
    vtt = to_vtt(cues(captions, regions))
    with new_db(CAPTIONS_SCHEMA) as (conn, dbpath):
        # S3 has no multi-object commit: the database, written last, names the subtitle files
        # it belongs with, so a reader can tell a set torn by a crash from a whole one.
        set_metadata(conn, model_version=model_version, ocr_engine=ocr_engine,
                     frame_rate=10.0, created_at=time.time(),
                     srt_sha256=hashlib.sha256(srt.encode("utf-8")).hexdigest(),
                     vtt_sha256=hashlib.sha256(vtt.encode("utf-8")).hexdigest())
        conn.executemany(
            "INSERT INTO captions (start_frame_index, end_frame_index, start_time, end_time, text,"
            " confidence, frame_count, region_index) VALUES (?,?,?,?,?,?,?,?)",
            [(c.start_frame, c.end_frame, c.start, c.end, c.text, c.confidence, c.frame_count,
              c.region_index) for c in captions])
        conn.executemany("INSERT INTO regions VALUES (?,?,?,?,?)",
                         [(k, *r.as_tuple()) for k, r in enumerate(regions or [])])
        # Subtitles first, database last: the database is the marker that a run completed.
        storage.put_bytes(keys.captions_srt, srt.encode("utf-8"), "application/x-subrip")
        storage.put_bytes(keys.captions_vtt, vtt.encode("utf-8"), "text/vtt")
        publish_db(conn, dbpath, storage, keys.captions_db)
