"""Caption OCR reads only the caption: text of the scene in the caption band (a URL on a test
card, a sign, a logo), there before and after the caption too, is masked out of the median."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_kernels.extents import available_predictors
from gpu_kernels.textmask import suppress_scene_text

from .conftest import TENANT, VIDEO

# The end-to-end tests that read the model's extents, or ask it about frames, need the model.
needs_model = pytest.mark.skipif("learned" not in available_predictors(),
                                 reason="learned extents model not shipped")

# --- the mask on synthetic arrays ---------------------------------------------------------------

H, W = 60, 240


def _text(x0: int, y0: int, n: int, value: int, height: int = 20) -> np.ndarray:
    """(H, W) bool strokes that look like a line of text: n glyphs of bars and a crossbar."""
    m = np.zeros((H, W), bool)
    for k in range(n):
        x = x0 + 14 * k
        m[y0 : y0 + height, x : x + 3] = True
        m[y0 : y0 + height, x + 8 : x + 11] = True
        m[y0 + height // 2 : y0 + height // 2 + 3, x : x + 11] = True
    return m


def _scene(rng, noise: int = 4) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    bg = 70 + (xx // 3 + yy) % 40
    return np.clip(bg + rng.integers(-noise, noise + 1, (H, W)), 0, 255).astype(np.int16)


def _draw(img: np.ndarray, strokes: np.ndarray, value: int, outline: int | None = None) -> np.ndarray:
    out = img.copy()
    if outline is not None:
        ring = (np.pad(strokes, 1)[:-2, 1:-1] | np.pad(strokes, 1)[2:, 1:-1] | np.pad(strokes, 1)[1:-1, :-2]
                | np.pad(strokes, 1)[1:-1, 2:]) & ~strokes
        out[ring] = outline
    out[strokes] = value
    return np.clip(out, 0, 255).astype(np.uint8)


SCENE = _text(150, 20, 6, 150)  # grey scene text on the right, the whole time
CAPTION = _text(10, 20, 8, 235)  # white caption with a dark outline on the left
OTHER = _text(10, 22, 8, 235)  # another caption in the same place, two rows lower


def _ink(img: np.ndarray, strokes: np.ndarray, value: int) -> float:
    """Fraction of the stroke pixels still within 30 grey levels of their drawn value."""
    return float((np.abs(img[strokes].astype(int) - value) < 30).mean())


def test_static_scene_text_is_removed_and_the_caption_kept():
    rng = np.random.default_rng(1)
    before = _draw(_scene(rng), SCENE, 150)
    after = _draw(_scene(rng), SCENE, 150)
    background = _scene(rng)
    during = _draw(_draw(background, SCENE, 150), CAPTION, 235, outline=20)
    r = suppress_scene_text(during, [before, after], fmt="gray")
    assert _ink(during, SCENE, 150) == 1.0
    assert _ink(r.image, SCENE, 150) < 0.05  # the scene text is gone...
    assert _ink(r.image, CAPTION, 235) > 0.97  # ...the caption stays, outline too
    assert r.kept[CAPTION].all()
    # ...and the scene looks as it would without the text: no strokes, no edges left there.
    region = (slice(15, 45), slice(145, 240))
    assert np.abs(r.image[region].astype(int) - background[region]).mean() < 12
    assert np.abs(r.image[SCENE].astype(int) - background[SCENE]).max() < 40  # drawn: 40..80 above
    # One side is enough: the start or the end of a video.
    for refs in ([before, None], [None, after]):
        one = suppress_scene_text(during, refs, fmt="gray")
        assert _ink(one.image, SCENE, 150) < 0.05 and _ink(one.image, CAPTION, 235) > 0.97


def test_a_caption_shown_back_to_back_with_another_one_is_kept():
    rng = np.random.default_rng(2)
    before = _draw(_draw(_scene(rng), SCENE, 150), OTHER, 235, outline=20)  # the previous caption
    nxt = np.zeros((H, W), bool)  # the next caption: other glyphs (three crossbars each), same line
    for k in range(7):
        for y in (18, 26, 34):
            nxt[y : y + 3, 12 + 17 * k : 24 + 17 * k] = True
    after = _draw(_draw(_scene(rng), SCENE, 150), nxt, 235, outline=20)
    during = _draw(_draw(_scene(rng), SCENE, 150), CAPTION, 235, outline=20)
    r = suppress_scene_text(during, [before, after], fmt="gray")
    # The previous caption shares nearly every stroke pixel (it sits two rows lower), the next
    # one crosses some: only pixels the same in both could go, where strokes cross.
    assert _ink(r.image, CAPTION, 235) > 0.93
    assert _ink(r.image, SCENE, 150) < 0.05


def test_text_on_one_side_only_is_kept():
    """The caption seen in one reference (a boundary placed too early) is not scene text: only
    what every reference shows is removed."""
    rng = np.random.default_rng(3)
    before = _draw(_draw(_scene(rng), SCENE, 150), CAPTION, 235, outline=20)
    after = _draw(_scene(rng), SCENE, 150)
    during = _draw(_draw(_scene(rng), SCENE, 150), CAPTION, 235, outline=20)
    r = suppress_scene_text(during, [before, after], fmt="gray")
    assert _ink(r.image, CAPTION, 235) > 0.97 and _ink(r.image, SCENE, 150) < 0.05


def test_a_faint_caption_over_a_patch_of_its_own_brightness_is_kept():
    """A faint caption (no outline, 45 grey levels over the scene) where the one reference shows
    a smooth patch as bright as its strokes (the scene moved): same values, but no edges there
    in the reference, so not the scene's."""
    rng = np.random.default_rng(8)
    scene = np.full((H, W), 120, np.int16) + rng.integers(-2, 3, (H, W))
    during = _draw(scene, CAPTION, 165)
    patch = scene.copy()
    patch[15:45, 5:125] = 165  # where the caption is, smooth and as bright as it
    r = suppress_scene_text(during, [np.clip(patch, 0, 255).astype(np.uint8)], fmt="gray")
    assert r.kept[CAPTION].mean() > 0.97 and _ink(r.image, CAPTION, 165) > 0.97


def test_no_reference_leaves_the_median_unchanged():
    rng = np.random.default_rng(4)
    during = _draw(_draw(_scene(rng), SCENE, 150), CAPTION, 235, outline=20)
    r = suppress_scene_text(during, [None, None], fmt="gray")
    assert r.image is during and r.kept is None and r.kept_ink_fraction == 1.0


def test_a_moving_background_keeps_nearly_everything_but_static_text():
    """Camera motion: the background differs everywhere and stays; the static overlay goes."""

    def moving(t):
        yy, xx = np.mgrid[0:H, 0:W]
        return (60 + 60 * np.sin((xx + 7 * t) / 9.0) * np.cos((yy - 3 * t) / 7.0) + 60).astype(np.int16)

    before, after = _draw(moving(0), SCENE, 150), _draw(moving(9), SCENE, 150)
    during = _draw(_draw(moving(4), SCENE, 150), CAPTION, 235, outline=20)
    r = suppress_scene_text(during, [before, after], fmt="gray")
    assert r.kept[CAPTION].all() and _ink(r.image, CAPTION, 235) > 0.97
    visible = SCENE & (np.abs(150 - moving(4)) >= 40)  # where the overlay stands out at all
    assert r.kept[visible].mean() < 0.3  # the overlay's strokes go...
    assert r.kept[~_dilate(SCENE | CAPTION, 2)].mean() > 0.8  # ...the background is left as it was


def test_the_guard_measure_tells_erased_text():
    """``kept_ink_fraction``: what ocr_captions' guard reads (near-total erasure → look further)."""
    rng = np.random.default_rng(7)
    scene = _draw(_scene(rng), SCENE, 150)
    during = _draw(_draw(_scene(rng), SCENE, 150), CAPTION, 235, outline=20)
    assert suppress_scene_text(during, [scene], fmt="gray").kept_ink_fraction > 0.5
    # A reference that shows the caption too: (nearly) all the text would go.
    assert suppress_scene_text(during, [during.copy()], fmt="gray").kept_ink_fraction < 0.1


def _dilate(m, r):
    out = m.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(m, dy, 0), dx, 1)
    return out


def test_yuv420p_planes_are_masked_together():
    """The layout ocr_captions uses: stacked Y, U, V planes; chroma follows the luma mask."""
    rng = np.random.default_rng(6)

    def yuv(y: np.ndarray, u: int, v: int) -> np.ndarray:
        return np.concatenate([y, np.full((H // 2, W), u, np.uint8)], axis=0) if u == v else np.concatenate(
            [y, np.concatenate([np.full((H // 4, W), u, np.uint8), np.full((H // 4, W), v, np.uint8)])], axis=0)

    before = yuv(_draw(_scene(rng), SCENE, 150), 110, 150)
    after = yuv(_draw(_scene(rng), SCENE, 150), 110, 150)
    during = yuv(_draw(_draw(_scene(rng), SCENE, 150), CAPTION, 235, outline=20), 110, 150)
    r = suppress_scene_text(during, [before, after], fmt="yuv420p")
    assert r.image.shape == during.shape and r.image.dtype == np.uint8
    y = r.image[:H]
    assert _ink(y, SCENE, 150) < 0.05 and _ink(y, CAPTION, 235) > 0.97
    assert np.abs(r.image[H:].astype(int) - during[H:]).max() <= 2  # flat chroma stays flat
    with pytest.raises(ValueError):
        suppress_scene_text(during, [before[:, :-2]], fmt="yuv420p")
    with pytest.raises(ValueError):
        suppress_scene_text(during, [before], fmt="bgr")


def test_reference_frames_skip_the_calls_captions():
    """The band without captions: the nearest frames on or beside no caption of the call (one
    frame of slack), so a caption inside a run of back-to-back ones looks past the whole run."""
    from tasks.caption_ocr import _Captions

    caps = _Captions([(10, 20), (20, 30), (40, 50), (52, 55)], frame_count=60)
    assert caps.stretch(19, -1) == (6, 7, 8) and caps.stretch(30, +1) == (31, 32, 33)  # (20, 30)
    assert caps.stretch(9, -1) == (6, 7, 8)  # (10, 20): slack frame 9 skipped
    assert caps.stretch(50, +1) == (56, 57, 58)  # across the 1-frame gap at 51 (its slack)
    assert caps.stretch(55, +1) == (56, 57, 58)
    assert _Captions([(0, 5)], 8).stretch(-1, -1) == () and _Captions([(0, 5)], 8).stretch(5, +1) == (6, 7)
    alone = _Captions([(20, 30)], 100)  # one caption: nothing else known, the frames right by it
    assert alone.stretch(19, -1) == (16, 17, 18) and alone.stretch(30, +1) == (31, 32, 33)


# --- end to end through the real jobs ------------------------------------------------------------

FPS = 25
CAPTIONS = [(0.8, 2.6, "你今天几点下班？"), (2.6, 4.4, "Meet me at noon"), (5.2, 7.0, "明天见")]
# Back to back, and sharing characters at the same places: 是 and 的 are in all three.
SHARED = [(1.5, 3.0, "这是我的"), (3.0, 4.5, "那是你的"), (4.5, 6.0, "这是他的")]
SCENE_TEXT = "www.example.com"
BAND = (0.0, 0.70, 1.0, 0.98)


def _clip(path: str, captions, seconds: float, seed: int) -> str:
    """640x360 H.264 over moving footage; light, outlined scene text sits in the caption band
    the whole time, just above and right of where the captions are drawn (crossing the longest)."""
    from fractions import Fraction

    import av
    from PIL import Image, ImageDraw, ImageFont

    from synth.clip import CaptionRenderer, _footage_frames, _synthetic_frames, footage_paths
    from synth.fonts import latin_font

    w, h = 640, 360
    paths = footage_paths()
    frames = _footage_frames(paths[seed % len(paths)], w, h) if paths else _synthetic_frames(w, h, seed)
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((330, 256), SCENE_TEXT, font=ImageFont.truetype(latin_font(), 22),
                               fill=(235, 235, 235, 255), stroke_width=1, stroke_fill=(30, 30, 30, 255))
    scene = np.asarray(layer, np.float32)
    alpha, rgb = scene[..., 3:] / 255.0, scene[..., :3]
    renderer = CaptionRenderer(w, h)
    with av.open(path, "w") as out:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"crf": "23", "preset": "veryfast", "g": "50", "bf": "2"}
        for j in range(int(seconds * FPS)):
            img = (next(frames) * (1 - alpha) + rgb * alpha + 0.5).astype(np.uint8)
            for a, b, text in captions:
                if round(a * FPS) <= j < round(b * FPS):
                    img = renderer.draw(img, text)
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            f.pts, f.time_base = j, Fraction(1, FPS)
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def _norm(text: str) -> str:
    from .conftest import load_scorer

    return load_scorer().normalise(text)


def _cer(got: str, want: str) -> float:
    from .conftest import load_scorer

    return load_scorer().edit_distance(_norm(got), _norm(want)) / max(1, len(_norm(want)))


def _scene_chars(text: str) -> bool:
    """True when the text holds a piece of the scene text (3 of its characters in a row)."""
    norm, scene = _norm(text), _norm(SCENE_TEXT)
    return any(scene[k : k + 3] in norm for k in range(len(scene) - 2))


class _Run:
    """A clip through crop & infer on its own local bucket; OCR with the session's engine."""

    def __init__(self, root, path, ocr_engine) -> None:
        from tasks.context import JobContext
        from tasks.crop_infer import crop_and_infer_caption_frame_extents
        from tasks.keys import VideoKeys
        from tasks.pipeline import caption_intervals
        from tasks.storage import LocalStorage
        from tasks.types import CropRegion

        self.ctx = JobContext(storage=LocalStorage(root), device_name="cpu")
        self.ctx._ocr = ocr_engine
        keys = VideoKeys(TENANT, VIDEO)
        self.ctx.storage.put_file(keys.video, path)
        ci = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, CropRegion(*BAND), ctx=self.ctx)
        self.prefix = ci.cropped_frames_prefix
        intervals, _meta, self.changes = caption_intervals(self.ctx.storage, ci.caption_frame_extents_db_key)
        self.ranges = [(iv.start_frame, iv.end_frame) for iv in intervals]

    def read(self, ranges) -> list[str]:
        from tasks.caption_ocr import ocr_captions

        return [r.ocr_text for r in ocr_captions(self.prefix, ranges, ctx=self.ctx)]

    def captions(self) -> list[str]:
        """What run_video does after extraction: caption OCR over the model's extents, merge."""
        from tasks.pipeline import Caption, merge_captions

        texts = self.read(self.ranges)
        caps = [Caption(s, e, s / 10, e / 10, t, 0.9, e - s) for (s, e), t in zip(self.ranges, texts)]
        return merge_captions(caps, changes=self.changes)


def _frames(captions) -> list[tuple[int, int]]:
    return [(round(a * 10), round(b * 10)) for a, b, _ in captions]


@pytest.fixture(scope="module")
def scene_run(tmp_path_factory, ocr_engine):
    root = tmp_path_factory.mktemp("scene")
    return _Run(root / "bucket", _clip(str(root / "scene.mp4"), CAPTIONS, 8.0, seed=0), ocr_engine)


@needs_model
def test_captions_beside_scene_text_are_read_without_it(scene_run):
    caps = scene_run.captions()
    texts = [c.text for c in caps]
    assert not any(_scene_chars(t) for t in texts), texts
    assert len(caps) == len(CAPTIONS), (scene_run.ranges, texts)
    for c, (a, b, want) in zip(caps, CAPTIONS):
        assert abs(c.start_frame - a * 10) <= 1 and abs(c.end_frame - b * 10) <= 1, (c, a, b)
        assert _cer(c.text, want) <= 0.15, (c.text, want)


def test_the_clip_poses_the_problem_without_the_mask(scene_run, monkeypatch):
    """The plain median reads the scene text along with every caption."""
    import tasks.caption_ocr as caption_ocr
    from gpu_kernels.textmask import SceneTextResult

    monkeypatch.setattr(caption_ocr, "suppress_scene_text",
                        lambda med, refs, **kw: SceneTextResult(med, None, 0, 0))
    texts = scene_run.read(_frames(CAPTIONS))
    assert all(_scene_chars(t) for t in texts), texts


def test_a_caption_the_extents_cut_short_on_both_sides_is_still_read(scene_run, monkeypatch):
    """Extents that missed the caption's first and last 0.6 s: the frames just outside show the
    caption too, and would take all of it for scene text. The guard looks a second further out,
    where the caption is gone and the scene text is not."""
    import tasks.caption_ocr as caption_ocr

    ranges = [(14, 20), (75, 78)]  # inside "你今天几点下班？" (frames 8..26), and one more span
    got = scene_run.read(ranges)[0]
    assert _cer(got, CAPTIONS[0][2]) <= 0.15 and not _scene_chars(got), got
    monkeypatch.setattr(caption_ocr, "ERASED", -1.0)  # without the guard: erased
    assert scene_run.read(ranges)[0] == ""


def test_a_span_of_scene_text_only_reads_as_no_caption(tmp_path, ocr_engine):
    """No caption at all: spans the model might propose there read as nothing (the merge step
    then drops them); the first and the last have one side only."""
    run = _Run(tmp_path / "bucket", _clip(str(tmp_path / "none.mp4"), [], 5.0, seed=1), ocr_engine)
    ranges = [(0, 10), (20, 30), (40, 50)]  # 5 s: 50 frames
    assert run.read(ranges) == [""] * len(ranges)


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory, ocr_engine):
    root = tmp_path_factory.mktemp("shared")
    return _Run(root / "bucket", _clip(str(root / "shared.mp4"), SHARED, 7.5, seed=0), ocr_engine)


@needs_model
def test_back_to_back_captions_keep_the_characters_they_share(shared_run):
    """A run of back-to-back captions is compared with the band before and after the whole run:
    是 and 的, at the same places in all three, are the captions', not the scene's."""
    caps = shared_run.captions()
    assert [c.text for c in caps] == [t for _, _, t in SHARED], (shared_run.ranges, [c.text for c in caps])


@needs_model
def test_a_job_for_one_caption_keeps_the_characters_it_shares_with_its_neighbours(shared_run):
    """One caption per call (the distributed jobs): the frames around it show the captions
    before and after, which the extents model sees; they are no reference states."""
    from tasks.caption_ocr import generate_caption_ocr

    for (s, e), (_, _, want) in zip(_frames(SHARED), SHARED):
        got = generate_caption_ocr(shared_run.prefix, s, e, ctx=shared_run.ctx).ocr_text
        assert _norm(want) in _norm(got), (got, want)
