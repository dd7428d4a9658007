"""A local server speaking Google Vision's REST protocol (``POST /v1/images:annotate``).

It reads no text. Tests paint solid bright rectangles whose *width* names a label registered
with :meth:`VisionStub.paint`; the stub decodes each base64 image, finds the rectangles
(recursive XY cuts over a brightness mask), and answers with what Vision would: a
``fullTextAnnotation`` (pages → blocks → paragraphs → words → symbols with ``detectedBreak``),
``textAnnotations`` (the whole text, then one entry per word), integer ``boundingPoly``
vertices with zero coordinates omitted, and per-word/per-symbol confidences. Positions are
wherever the rectangle really is in the image sent, so a client's montage → frame mapping is
genuinely exercised.

Failure injection: ``fail_next`` scripts HTTP errors (or dropped connections) for the next
requests; ``fail_when`` fails whole requests whose images contain a label; ``image_error_when``
returns a per-image ``error`` inside a 200 answer. Every request is recorded.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import unicodedata
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

import numpy as np
import pytest

_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

WIDTH_BASE = 30  # label k is painted WIDTH_BASE + WIDTH_STEP·k pixels wide
WIDTH_STEP = 6


@dataclass(frozen=True)
class Label:
    text: str
    confidence: float
    width: int


@dataclass
class Found:
    """One rectangle found in one image of a request."""

    label: Label
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int


@dataclass
class RecordedRequest:
    path: str
    body_bytes: int
    images: list[tuple[int, int]]  # (height, width) of each decoded image
    found: list[list[Found]]
    language_hints: list[list[str]]
    features: list[list]
    status: int = 200


@dataclass
class VisionStub:
    host: str = "127.0.0.1"
    port: int = 0
    merge_blocks: bool = False  # put every detection of an image in one block and paragraph
    threshold: int = 160
    labels: dict[int, Label] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    fail_next: list[int | str] = field(default_factory=list)  # HTTP status, or "drop" to hang up
    fail_when: Callable[[list[list[Found]]], int | None] | None = None
    image_error_when: Callable[[list[Found]], tuple[int, str] | None] | None = None
    retry_after: float | None = None  # sent with 429/503 answers when set
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- test side ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def label(self, text: str, confidence: float = 0.97) -> Label:
        """Register ``text``; the returned label's width is the rectangle width that means it."""
        for lab in self.labels.values():
            if lab.text == text and lab.confidence == confidence:
                return lab
        k = len(self.labels)
        lab = Label(text, confidence, WIDTH_BASE + WIDTH_STEP * k)
        self.labels[k] = lab
        return lab

    def paint(self, image: np.ndarray, text: str, x: int, y: int, height: int = 20,
              confidence: float = 0.97) -> tuple[int, int, int, int]:
        """Paint ``text``'s rectangle at (x, y) into ``image`` (in place). → (x, y, w, h)."""
        lab = self.label(text, confidence)
        image[y : y + height, x : x + lab.width] = 255
        return x, y, lab.width, height

    # --- server ------------------------------------------------------------------------------

    def start(self) -> "VisionStub":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                stub._handle(self)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _send_json(self, h: BaseHTTPRequestHandler, status: int, obj: dict, extra: dict | None = None) -> None:
        data = json.dumps(obj).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=UTF-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _error(self, h: BaseHTTPRequestHandler, status: int) -> None:
        extra = {"Retry-After": str(self.retry_after)} if self.retry_after and status in (429, 503) else None
        body = {"error": {"code": status, "message": f"stub error {status}",
                          "status": _STATUS_NAMES.get(status, "UNKNOWN")}}
        self._send_json(h, status, body, extra)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        n = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(n)
        if not path.endswith("/images:annotate") or not path.startswith("/v1/"):
            self._send_json(h, 404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})
            return
        body = json.loads(raw or b"{}")
        reqs = body.get("requests", [])
        rec = RecordedRequest(path, len(raw), [], [], [], [])
        responses = []
        for r in reqs:
            img = _decode(r.get("image", {}).get("content", ""))
            rec.images.append(img.shape[:2])
            found = self._find(img)
            rec.found.append(found)
            rec.language_hints.append(list(r.get("imageContext", {}).get("languageHints", [])))
            rec.features.append([f.get("type") for f in r.get("features", [])])
            responses.append((img, found))
        with self._lock:
            self.requests.append(rec)
            scripted = self.fail_next.pop(0) if self.fail_next else None
        if len(reqs) > 16:
            rec.status = 400
            self._error(h, 400)
            return
        if scripted == "drop":
            rec.status = 0
            h.close_connection = True
            h.connection.shutdown(2)  # hang up without an answer: a connection error client-side
            return
        status = scripted or (self.fail_when(rec.found) if self.fail_when else None)
        if status:
            rec.status = int(status)
            self._error(h, int(status))
            return
        out = []
        for img, found in responses:
            err = self.image_error_when(found) if self.image_error_when else None
            if err:
                out.append({"error": {"code": err[0], "message": err[1]}})
            else:
                out.append(_annotate(img.shape[0], img.shape[1], found, self.merge_blocks))
        self._send_json(h, 200, {"responses": out})

    def _find(self, img: np.ndarray) -> list[Found]:
        mask = img.mean(axis=2) >= self.threshold if img.ndim == 3 else img >= self.threshold
        out = []
        for y0, y1, x0, x1 in _xy_cut(mask, 0, 0):
            w, hgt = x1 - x0, y1 - y0
            if w < WIDTH_BASE - WIDTH_STEP // 2 or hgt < 4:
                continue
            k = int(round((w - WIDTH_BASE) / WIDTH_STEP))
            lab = self.labels.get(k)
            if lab is not None and abs(lab.width - w) <= 2:
                out.append(Found(lab, x0, y0, x1, y1))
        out.sort(key=lambda f: (f.y0, f.x0))
        return out


def _decode(b64: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


def _runs(v: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in a 1-D bool array → [(start, end_exclusive)]."""
    d = np.diff(np.concatenate([[0], v.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _xy_cut(mask: np.ndarray, oy: int, ox: int) -> Iterator[tuple[int, int, int, int]]:
    """Solid, separated rectangles in ``mask`` → (y0, y1, x0, x1) by recursive XY cuts."""
    rows = _runs(mask.any(axis=1))
    if len(rows) > 1:
        for a, b in rows:
            yield from _xy_cut(mask[a:b], oy + a, ox)
        return
    cols = _runs(mask.any(axis=0))
    if len(cols) > 1:
        for a, b in cols:
            yield from _xy_cut(mask[:, a:b], oy, ox + a)
        return
    if rows and cols:
        (ya, yb), (xa, xb) = rows[0], cols[0]
        yield oy + ya, oy + yb, ox + xa, ox + xb


# --- Vision's response shapes ----------------------------------------------------------------


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _poly(x0: float, y0: float, x1: float, y1: float) -> dict:
    """Vision's integer vertices, clockwise from top-left; zero coordinates are left out."""
    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    verts = []
    for x, y in pts:
        v = {}
        if int(round(x)):
            v["x"] = int(round(x))
        if int(round(y)):
            v["y"] = int(round(y))
        verts.append(v)
    return {"vertices": verts}


def _split_words(text: str) -> list[tuple[str, bool]]:
    """→ [(word, followed_by_space)]: Latin words split at spaces, CJK one character a word."""
    out: list[tuple[str, bool]] = []
    for chunk in text.split(" "):
        if not chunk:
            continue
        cur = ""
        for ch in chunk:
            if _is_cjk(ch):
                if cur:
                    out.append((cur, False))
                    cur = ""
                out.append((ch, False))
            else:
                cur += ch
        if cur:
            out.append((cur, False))
        if out:
            out[-1] = (out[-1][0], True)
    return out


def _annotate(height: int, width: int, found: list[Found], merge_blocks: bool) -> dict:
    blocks = []
    word_entries = []
    lines = []
    paragraphs_by_block: list[list[dict]] = []
    for f in found:
        words = _split_words(f.label.text)
        total = sum(len(w) for w, _ in words) + sum(1 for _w, sp in words[:-1] if sp)
        unit = (f.x1 - f.x0) / max(1, total)
        x = float(f.x0)
        wjson = []
        for j, (w, space_after) in enumerate(words):
            wx0, wx1 = x, x + unit * len(w)
            symbols = []
            for c_i, ch in enumerate(w):
                sx0 = wx0 + unit * c_i
                sym = {"boundingBox": _poly(sx0, f.y0, sx0 + unit, f.y1), "text": ch,
                       "confidence": round(max(0.0, f.label.confidence - 0.01 * (c_i % 3)), 4)}
                if c_i == len(w) - 1:
                    last = j == len(words) - 1
                    brk = "LINE_BREAK" if last else ("SPACE" if space_after else None)
                    if brk:
                        sym["property"] = {"detectedBreak": {"type": brk}}
                symbols.append(sym)
            wjson.append({
                "property": {"detectedLanguages": [{"languageCode": "zh" if _is_cjk(w[0]) else "en"}]},
                "boundingBox": _poly(wx0, f.y0, wx1, f.y1),
                "symbols": symbols,
                "confidence": f.label.confidence,
            })
            word_entries.append({"description": w, "boundingPoly": _poly(wx0, f.y0, wx1, f.y1)})
            x = wx1 + (unit if space_after else 0)
        para = {"boundingBox": _poly(f.x0, f.y0, f.x1, f.y1), "words": wjson,
                "confidence": f.label.confidence}
        paragraphs_by_block.append([para])
        lines.append(f.label.text)
    if merge_blocks and found:
        # One block, one paragraph holding every word: Vision does merge nearby lines.
        words_all = [w for paras in paragraphs_by_block for p in paras for w in p["words"]]
        x0 = min(f.x0 for f in found); y0 = min(f.y0 for f in found)
        x1 = max(f.x1 for f in found); y1 = max(f.y1 for f in found)
        conf = float(np.mean([f.label.confidence for f in found]))
        paragraphs_by_block = [[{"boundingBox": _poly(x0, y0, x1, y1), "words": words_all, "confidence": conf}]]
        boxes = [(x0, y0, x1, y1, conf)]
    else:
        boxes = [(f.x0, f.y0, f.x1, f.y1, f.label.confidence) for f in found]
    for (bx0, by0, bx1, by1, conf), paras in zip(boxes, paragraphs_by_block):
        blocks.append({"boundingBox": _poly(bx0, by0, bx1, by1), "paragraphs": paras,
                       "blockType": "TEXT", "confidence": conf})
    if not found:
        return {}  # Vision answers an empty object for an image without text
    full_text = "\n".join(lines) + "\n"
    any_cjk = any(_is_cjk(c) for c in full_text)
    text_annotations = [{
        "locale": "zh" if any_cjk else "en",
        "description": full_text,
        "boundingPoly": _poly(min(f.x0 for f in found), min(f.y0 for f in found),
                              max(f.x1 for f in found), max(f.y1 for f in found)),
    }] + word_entries
    return {
        "textAnnotations": text_annotations,
        "fullTextAnnotation": {
            "pages": [{
                "property": {"detectedLanguages": [{"languageCode": "zh" if any_cjk else "en", "confidence": 1}]},
                "width": width, "height": height, "blocks": blocks,
            }],
            "text": full_text,
        },
    }


@pytest.fixture
def vision_stub() -> Iterator[VisionStub]:
    stub = VisionStub().start()
    try:
        yield stub
    finally:
        stub.stop()
