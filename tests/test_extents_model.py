"""The learned model loads from the committed weights and classifies rendered pairs correctly."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the training package (not installed)

from gpu_kernels.extents import get_predictor  # noqa: E402
from gpu_kernels.extents.base import BACKWARD_OF, CLASSES  # noqa: E402
from gpu_kernels.extents.learned import (ExtentsNet, LearnedPairClassifier, fuse_for_inference,  # noqa: E402
                                         load_checkpoint, save_checkpoint, WEIGHTS_PATH)
from training.render import (BackgroundStream, blend, fit_text, font_pool, footage_pool,  # noqa: E402
                             h264_roundtrip, random_text, render_caption, sample_style)

needs_weights = pytest.mark.skipif(not LearnedPairClassifier.weights_available(),
                                   reason=f"no committed weights at {WEIGHTS_PATH}")

W, H = 640, 64


def render_pair(seed: int, kind: str, split: str = "heldout") -> np.ndarray:
    """Two consecutive 10 Hz crops, (2, H, W, 3) uint8, over moving held-out footage, H.264."""
    rng = np.random.default_rng(seed)
    fonts = font_pool(split)
    script = "hanzi" if seed % 2 else "latin"
    style = sample_style(rng, fonts, W, H, script, 1)
    text_a = fit_text(random_text(rng, script), style, W)
    text_b = text_a if kind == "same" else fit_text(random_text(rng, script), style, W)
    bg = BackgroundStream(rng, W, H, footage_pool(split), fonts, kind="footage")
    a, b = bg.next(), bg.next()
    if kind in ("same", "different", "valid_empty"):
        a = blend(a, render_caption(text_a, style, W, H))
    if kind in ("same", "different", "empty_valid"):
        b = blend(b, render_caption(text_b, style, W, H))
    return h264_roundtrip(np.stack([a, b]), crf=24)


@pytest.fixture(scope="module")
def predictor():
    return get_predictor("learned")


@needs_weights
def test_auto_picks_the_learned_model_and_it_is_small():
    assert get_predictor("auto").name == "learned"
    assert Path(WEIGHTS_PATH).stat().st_size < 5 * 2**20


@needs_weights
@pytest.mark.parametrize("kind", CLASSES)
def test_classifies_rendered_pairs(predictor, kind):
    pairs = np.concatenate([render_pair(100 + k, kind) for k in range(6)])  # (12, H, W, 3)
    probs = predictor.predict(pairs)  # 11 pairs; the even ones are ours
    fwd, bwd = probs.forward[::2], probs.backward[::2]
    want = CLASSES.index(kind)
    correct = int((fwd.argmax(1) == want).sum())
    assert correct >= 5, f"{kind}: forward argmax {[CLASSES[i] for i in fwd.argmax(1)]}"
    both = 0.5 * (fwd + bwd[:, BACKWARD_OF])  # the backward reading, mapped to forward labels
    assert int((both.argmax(1) == want).sum()) >= 5


@needs_weights
def test_predict_shapes_batches_and_sizes(predictor):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (9, 160, 1920, 3), dtype=np.uint8)
    probs = predictor.predict(frames)
    assert probs.forward.shape == probs.backward.shape == (8, 5)
    assert probs.forward.dtype == np.float32
    np.testing.assert_allclose(probs.forward.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probs.backward.sum(1), 1.0, atol=1e-5)
    # Windows overlap by one frame, so a tiny batch gives the same pairs as one big batch.
    small = LearnedPairClassifier(batch_frames=3).predict(frames)
    np.testing.assert_allclose(small.forward, probs.forward, atol=1e-5)
    assert len(predictor.predict(rng.integers(0, 256, (2, 20, 100, 3), dtype=np.uint8))) == 1
    assert len(predictor.predict(frames[:1])) == 0


def test_fused_model_matches_the_trained_one(tmp_path):
    torch.manual_seed(0)
    model = ExtentsNet()
    for m in model.modules():  # non-trivial statistics when batch norm is on
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2.0)
            m.running_mean.uniform_(-0.5, 0.5)
    model.eval()
    x = torch.randn(6, 3, model.cfg.height, model.cfg.width)
    with torch.no_grad():
        want = model(x)
        path = tmp_path / "w.pt"
        save_checkpoint(model, str(path))
        got = load_checkpoint(str(path))(x.contiguous(memory_format=torch.channels_last))
        fused = fuse_for_inference(model)(x)
    for w, g, f in zip(want, got, fused):
        torch.testing.assert_close(g, w, atol=2e-2, rtol=0)  # float16 storage
        torch.testing.assert_close(f, w, atol=1e-4, rtol=0)
