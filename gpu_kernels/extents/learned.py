"""LearnedPairClassifier: a small CNN that classifies consecutive caption-band crops.

The computation (shapes in comments as ``(batch, channels, height, width)``):

    frames (N, H, W, 3) uint8 ──resize_frames──▶ (N, 3, 32, 256) uint8, antialiased, any H×W
    encoder, once per frame                 ──▶ f (N, C, 4, 32)
    pair head for (a, b), both orientations:
        h_ab = A·f_a + B·f_b + D·|f_a − f_b|      1×1 convolutions: A·f and B·f run once per
        h_ba = A·f_b + B·f_a + D·|f_a − f_b|      frame, D·|Δ| once per pair for both readings
        → BN, ReLU, depthwise-separable conv, global max+mean pool → linear → 5 logits

The head is asymmetric (A ≠ B), so the backward row is a second reading of the pair rather than
a permutation of the forward row. Trained by ``python -m training.train`` on synthetic caption
strips (``training/``); weights ship in ``gpu_kernels/weights/``. At load, batch norms are folded
into the convolutions and tensors use channels-last, which is what makes it fast on a CPU.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import Fatal
from .base import PairPredictor, PairProbs

WEIGHTS_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "weights", "extents_v1.pt")


@dataclass(frozen=True)
class ExtentsNetConfig:
    height: int = 32  # model input; a 1920×160 band shrinks ×5 vertically, text stays ~8-12 px
    width: int = 256
    stem: int = 32  # channels after the 4×4 patch stem, at (H/4, W/4)
    channels: int = 48  # frame features at (H/8, W/8)
    head: int = 48
    head_blocks: int = 2  # depthwise-separable blocks after the pair combination
    n_classes: int = 5
    batchnorm: bool = False  # off: batch norm costs ~40% of a CPU training step at this size


# ---------------------------------------------------------------------------------------------
# Preprocessing: shared by inference and training so both see the same pixels


def resize_frames(frames: np.ndarray | torch.Tensor, height: int, width: int,
                  device: torch.device | None = None) -> torch.Tensor:
    """(N, H, W, 3) uint8 RGB → (N, 3, height, width) uint8, antialiased, channels-last.

    On a CPU the uint8 antialiased kernel reads every source pixel once (a 1920×160 band costs
    ~0.15 ms); other devices resize in float.
    """
    x = torch.as_tensor(frames)
    if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != torch.uint8:
        raise ValueError(f"expected (N, H, W, 3) uint8 frames, got {tuple(x.shape)} {x.dtype}")
    if device is not None and device.type != "cpu":
        x = x.to(device, non_blocking=True)
    x = x.permute(0, 3, 1, 2)  # (N, 3, H, W), a channels-last view of the same memory
    if tuple(x.shape[-2:]) == (height, width):
        return x.contiguous(memory_format=torch.channels_last)
    if x.device.type == "cpu":
        y = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
    else:
        y = F.interpolate(x.float(), size=(height, width), mode="bilinear", antialias=True,
                          align_corners=False).round_().clamp_(0, 255).to(torch.uint8)
    return y.contiguous(memory_format=torch.channels_last)


def to_input(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, h, w) uint8 → float in [-1, 1]."""
    return x.float().mul_(2.0 / 255.0).sub_(1.0)


# ---------------------------------------------------------------------------------------------
# The network


def _conv(cin: int, cout: int, k: int | tuple[int, int] = 3, stride: int = 1, groups: int = 1,
          bn: bool = False) -> nn.Sequential:
    """conv → (batch norm) → ReLU; without batch norm the conv carries a bias."""
    if isinstance(k, int):
        k = (k, k)
    pad = (0, 0) if stride == k[0] == k[1] else (k[0] // 2, k[1] // 2)
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=not bn),
                         nn.BatchNorm2d(cout) if bn else nn.Identity(), nn.ReLU(inplace=True))


class ExtentsNet(nn.Module):
    def __init__(self, cfg: ExtentsNetConfig = ExtentsNetConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        s, c, h, bn = cfg.stem, cfg.channels, cfg.head, cfg.batchnorm
        self.encoder = nn.Sequential(
            _conv(3, s, 4, stride=4, bn=bn),  # (N, s, H/4, W/4) patch stem: cheap at full resolution
            _conv(s, s, 3, groups=s, bn=bn), _conv(s, c, 1, bn=bn),
            _conv(c, c, 3, stride=2, groups=c, bn=bn), _conv(c, c, 1, bn=bn),  # (N, c, H/8, W/8)
            _conv(c, c, (3, 5), groups=c, bn=bn), _conv(c, c, 1, bn=bn),  # wider along the line of text
        )
        # First head layer, split so the per-frame halves run once per frame (see module doc).
        self.head_a = nn.Conv2d(c, h, 1, bias=not bn)
        self.head_b = nn.Conv2d(c, h, 1, bias=False)
        self.head_d = nn.Conv2d(c, h, 1, bias=False)
        self.head_bn = nn.BatchNorm2d(h) if bn else nn.Identity()
        self.head = nn.Sequential(*[m for _ in range(cfg.head_blocks)
                                    for m in (_conv(h, h, 3, groups=h, bn=bn), _conv(h, h, 1, bn=bn))])
        self.classify = nn.Linear(2 * h, cfg.n_classes)

    def _pair(self, z: torch.Tensor) -> torch.Tensor:
        z = self.head(F.relu(self.head_bn(z)))  # (P, h, H/8, W/8)
        pooled = torch.cat([z.amax(dim=(2, 3)), z.mean(dim=(2, 3))], dim=1)  # (P, 2h)
        return self.classify(pooled)  # (P, 5)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 3, H, W) consecutive frames → forward and backward logits, each (N-1, 5)."""
        f = self.encoder(x)  # (N, c, H/8, W/8)
        fa, fb = self.head_a(f), self.head_b(f)
        d = self.head_d((f[1:] - f[:-1]).abs())  # (N-1, h, ·, ·): symmetric in the pair
        return self._pair(fa[:-1] + fb[1:] + d), self._pair(fa[1:] + fb[:-1] + d)

    def forward_pairs(self, xa: torch.Tensor, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Independent pairs, (P, 3, H, W) each → forward and backward logits (P, 5). Training."""
        p = xa.shape[0]
        f = self.encoder(torch.cat([xa, xb]))  # (2P, c, ·, ·)
        f1, f2 = f[:p], f[p:]
        d = self.head_d((f2 - f1).abs())
        return (self._pair(self.head_a(f1) + self.head_b(f2) + d),
                self._pair(self.head_a(f2) + self.head_b(f1) + d))


# ---------------------------------------------------------------------------------------------
# Inference-time folding of batch norms


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A conv with bias equal to conv followed by bn (eval statistics)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # (cout,)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                      groups=conv.groups, bias=True)
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
        bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        fused.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
    return fused


def fuse_for_inference(model: ExtentsNet) -> ExtentsNet:
    """Fold every BatchNorm into the convolution before it; outputs unchanged up to rounding."""
    model.eval()
    if not model.cfg.batchnorm:
        return model
    for seq in list(model.encoder) + list(model.head):
        if isinstance(seq, nn.Sequential) and isinstance(seq[1], nn.BatchNorm2d):
            seq[0] = _fold(seq[0], seq[1])
            seq[1] = nn.Identity()
    # head_bn follows a sum of three 1×1 convs: scale each, put the shift in head_a's bias.
    bn = model.head_bn
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    for name in ("head_a", "head_b", "head_d"):
        conv = getattr(model, name)
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, 1, bias=(name == "head_a"))
        with torch.no_grad():
            fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
            if name == "head_a":
                fused.bias.copy_(bn.bias - bn.running_mean * scale)
        setattr(model, name, fused)
    model.head_bn = nn.Identity()  # type: ignore[assignment]
    return model


# ---------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(model: ExtentsNet, path: str, meta: dict | None = None) -> None:
    """Unfused weights in float16 (half the bytes) plus the config and training metadata."""
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save({"config": asdict(model.cfg), "state_dict": state, "meta": meta or {}}, path)


def load_checkpoint(path: str, device: torch.device | None = None, fuse: bool = True) -> ExtentsNet:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model = ExtentsNet(ExtentsNetConfig(**ckpt["config"]))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v
                               for k, v in ckpt["state_dict"].items()})
    except (OSError, RuntimeError, KeyError, TypeError) as e:
        raise Fatal(f"cannot load caption-extents weights {path}: {e}") from e
    model.eval()
    if fuse:
        fuse_for_inference(model)
    return model.to(device or torch.device("cpu"), memory_format=torch.channels_last)


@torch.inference_mode()
def pair_probs(model: ExtentsNet, frames: np.ndarray, batch_frames: int,
               device: torch.device | None = None) -> PairProbs:
    """Forward and backward probabilities of every consecutive pair of (N, H, W, 3) uint8
    frames, ``batch_frames`` frames per model call; ``model`` must be in eval mode."""
    device = device or torch.device("cpu")
    n = int(frames.shape[0])
    if n < 2:
        return PairProbs.concat([])
    fwd, bwd = [], []
    step = batch_frames - 1  # windows overlap by one frame: every pair exactly once
    for s in range(0, n - 1, step):
        x = resize_frames(frames[s : s + batch_frames], model.cfg.height, model.cfg.width, device)
        lf, lb = model(to_input(x.to(device)))
        fwd.append(torch.softmax(lf.float(), 1).cpu())
        bwd.append(torch.softmax(lb.float(), 1).cpu())
    return PairProbs(torch.cat(fwd).numpy().astype(np.float32),
                     torch.cat(bwd).numpy().astype(np.float32))


# ---------------------------------------------------------------------------------------------
# The predictor


class LearnedPairClassifier(PairPredictor):
    name = "learned"
    version = "5"  # bumped with every retrained weights file: runs record which model read them

    def __init__(self, device: torch.device | None = None, weights_path: str | None = None,
                 batch_frames: int = 512) -> None:
        self.device = device or torch.device("cpu")
        path = weights_path or WEIGHTS_PATH
        if not os.path.exists(path):
            raise Fatal(f"caption-extents weights not found: {path}")
        self.model: ExtentsNet | None = load_checkpoint(path, self.device)
        self.cfg = self.model.cfg
        self.batch_frames = max(2, int(batch_frames))

    @classmethod
    def weights_available(cls) -> bool:
        return os.path.exists(WEIGHTS_PATH)

    @torch.inference_mode()
    def predict(self, frames: np.ndarray) -> PairProbs:
        if self.model is None:
            raise Fatal("LearnedPairClassifier used after close()")
        return pair_probs(self.model, frames, self.batch_frames, self.device)

    def close(self) -> None:
        self.model = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
