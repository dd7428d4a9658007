"""Google Cloud Vision OCR: DOCUMENT_TEXT_DETECTION over montages of many frames per image.

``recognize_batch`` tiles the frames vertically (see :mod:`.montage`), sends the montages with
``batch_annotate_images`` over the REST transport (≤ 16 images and ≤ 10 MB per request), maps
every word back to the frame holding most of it, and rebuilds lines per frame. Vision's own
confidences are kept. ``annotate_batch`` returns the same plus words and characters with boxes.

Failures are never silently empty: a request that still fails after the retries marks only the
frames it carried as failed. ``annotate_batch`` reports them in :attr:`VisionBatch.failed`;
``recognize_batch`` raises :class:`VisionBatchError` (a ``Transient``) or
:class:`VisionRequestRejected` (a ``BadInput``), both carrying the partial :class:`VisionBatch`.

Credentials: an explicit object, ``GOOGLE_APPLICATION_CREDENTIALS_JSON`` (the Modal secret
``google-vision``), ``GOOGLE_APPLICATION_CREDENTIALS`` (a file), or Application Default
Credentials, in that order. They are never logged. A plain ``http://`` endpoint (a local stub or
emulator) always gets anonymous credentials: a real token never travels unencrypted.
"""

from __future__ import annotations

import io
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..errors import BadInput, Fatal, Transient
from .base import OcrBox, OcrEngine
from .montage import Montage, VisionLimits, build_montages, pack_requests

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)

VISION_SCOPES = ("https://www.googleapis.com/auth/cloud-vision",)

# Short codes people type → Vision language hints (https://cloud.google.com/vision/docs/languages).
_LANG_HINTS = {
    "zh": ["zh-Hans"], "ch": ["zh-Hans"], "chs": ["zh-Hans"], "zh-cn": ["zh-Hans"], "zh-hans": ["zh-Hans"],
    "zh-sg": ["zh-Hans"], "cht": ["zh-Hant"], "zh-tw": ["zh-Hant"], "zh-hk": ["zh-Hant"],
    "zh-hant": ["zh-Hant"], "en": ["en"], "ja": ["ja"], "jp": ["ja"], "ko": ["ko"], "kr": ["ko"],
    "auto": [], "multi": [], "none": [],
}

# google.rpc.Code values a per-image error may carry that a retry can clear.
_TRANSIENT_RPC_CODES = {4: "DEADLINE_EXCEEDED", 8: "RESOURCE_EXHAUSTED", 10: "ABORTED", 13: "INTERNAL", 14: "UNAVAILABLE"}

# Vision's symbol break types that end a line.
_BREAK_SPACE, _BREAK_SURE_SPACE, _BREAK_EOL_SURE_SPACE, _BREAK_HYPHEN, _BREAK_LINE = 1, 2, 3, 4, 5


def language_hints(lang: str | None, default: Sequence[str] = ("zh-Hans",)) -> list[str]:
    """``None`` → ``default``; ``zh``/``ch`` → ``zh-Hans``; ``zh-tw`` → ``zh-Hant``; ``auto`` → none
    (Vision detects); anything else (``"en,ja"``) passes through as comma-separated codes."""
    if lang is None:
        return list(default)
    hints: list[str] = []
    for part in (p.strip() for p in lang.split(",")):
        if part:
            hints.extend(_LANG_HINTS.get(part.lower(), [part]))
    return list(dict.fromkeys(hints))


_language_hints = language_hints


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    """One character, box in the source image's pixels."""

    text: str
    confidence: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    x: float
    y: float
    width: float
    height: float
    symbols: tuple[Symbol, ...] = ()


@dataclass
class FrameText:
    """Everything Vision found in one source image."""

    lines: list[OcrBox] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)

    @property
    def symbols(self) -> list[Symbol]:
        return [s for w in self.words for s in w.symbols]


@dataclass
class VisionBatch:
    """One ``annotate_batch`` call. ``frames[i]`` is ``None`` exactly when ``i in failed``."""

    frames: list[FrameText | None]
    failed: dict[int, str] = field(default_factory=dict)  # frame index → reason
    permanent: set[int] = field(default_factory=set)  # failed frames a retry cannot fix
    montages: int = 0  # Vision images (billable units) planned
    requests: int = 0  # HTTP requests made, retries included

    @property
    def ok(self) -> bool:
        return not self.failed

    def boxes(self) -> list[list[OcrBox] | None]:
        return [f.lines if f is not None else None for f in self.frames]


class _BatchFailure:
    result: VisionBatch

    @property
    def failed_indices(self) -> list[int]:
        return sorted(self.result.failed)


class VisionBatchError(_BatchFailure, Transient):
    """Some frames failed OCR after every retry; ``.result`` holds the others' text."""

    def __init__(self, message: str, result: VisionBatch) -> None:
        super().__init__(message)
        self.result = result


class VisionRequestRejected(_BatchFailure, BadInput):
    """Vision refused some frames for good (e.g. an invalid image); ``.result`` holds the rest."""

    def __init__(self, message: str, result: VisionBatch) -> None:
        super().__init__(message)
        self.result = result


# --- credentials --------------------------------------------------------------------------


def load_credentials(credentials_json: str | None = None, credentials_file: str | None = None):
    """Build google-auth credentials from a JSON string or a file; ``None`` when neither is set
    (the client then uses Application Default Credentials). Only ``service_account`` and
    ``authorized_user`` configurations are accepted (Google warns against loading arbitrary
    credential types from configuration). Messages never contain the secret."""
    if credentials_json:
        return _credentials_from_info(_parse_json(credentials_json, "GOOGLE_APPLICATION_CREDENTIALS_JSON"),
                                      "GOOGLE_APPLICATION_CREDENTIALS_JSON")
    if credentials_file:
        try:
            with open(credentials_file, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise Fatal(f"cannot read Google credentials file {credentials_file}: {e.strerror}") from e
        return _credentials_from_info(_parse_json(text, credentials_file), credentials_file)
    return None


def _parse_json(text: str, where: str) -> dict:
    try:
        info = json.loads(text)
    except json.JSONDecodeError as e:
        # Not chained: JSONDecodeError keeps the whole document (the secret) in ``.doc``.
        raise Fatal(f"{where} is not valid JSON (line {e.lineno}, column {e.colno})") from None
    if not isinstance(info, dict):
        raise Fatal(f"{where} must hold a JSON object")
    return info


def _credentials_from_info(info: dict, where: str):
    from google.auth import exceptions as gauth_exc

    kind = info.get("type")
    try:
        if kind == "service_account":
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_info(info, scopes=list(VISION_SCOPES))
        if kind == "authorized_user":
            from google.oauth2 import credentials as user_credentials

            return user_credentials.Credentials.from_authorized_user_info(info, scopes=list(VISION_SCOPES))
    except (gauth_exc.GoogleAuthError, ValueError, TypeError) as e:
        # Not chained: google-auth messages and causes may quote fields of the key.
        raise Fatal(f"{where} holds unusable {kind} credentials ({type(e).__name__})") from None
    raise Fatal(f"{where}: unsupported credentials type {kind!r}; expected service_account or authorized_user")


def _is_plain_http(endpoint: str | None) -> bool:
    return bool(endpoint) and endpoint.lower().startswith("http://")


# --- the engine ---------------------------------------------------------------------------


class GoogleVisionEngine(OcrEngine):
    name = "google-vision"
    #: Frames a caller should hand to one ``recognize_batch`` call: enough to fill a montage or
    #: two (≈30 full 1080p frames or ≈150 caption crops fit one Vision image) without holding
    #: more than ~400 MB of 1080p frames. Smaller batches cost more billed images.
    batch_size = 64

    def __init__(
        self,
        lang: str | None = None,
        client: Any = None,
        credentials_json: str | None = None,
        credentials_file: str | None = None,
        api_endpoint: str | None = None,
        *,
        credentials: Any = None,
        language_hints: Sequence[str] | None = None,
        limits: VisionLimits | None = None,
        separator: int = 24,
        jpeg_quality: int | None = None,
        max_attempts: int | None = None,
        timeout: float | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 32.0,
        sleep: Callable[[float], None] = time.sleep,
        settings: "Settings | None" = None,
    ) -> None:
        if settings is None:  # only Vision's own settings must be valid (a local run has no S3)
            from ..settings import LOCAL_RUN_FIELDS, settings_for

            settings = settings_for(LOCAL_RUN_FIELDS)
        s = settings
        self.lang = lang if lang is not None else s.lang
        if language_hints is not None:
            self.language_hints = list(language_hints)
        else:
            self.language_hints = _language_hints(self.lang, s.vision_language_hints)
        self.limits = limits or VisionLimits(max_tiles_per_montage=s.vision_max_frames_per_montage)
        self.separator = separator
        self.jpeg_quality = jpeg_quality or s.vision_jpeg_quality
        self.max_attempts = max_attempts or s.vision_max_attempts
        self.timeout = timeout or s.vision_timeout_s
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self._owns_client = client is None
        self.api_endpoint = api_endpoint or s.vision_endpoint
        if client is None:
            client = self._make_client(
                credentials,
                credentials_json if credentials_json is not None else (
                    s.google_credentials_json.get_secret_value() if s.google_credentials_json else None
                ),
                credentials_file or s.google_credentials_file,
            )
        self._client = client

    def __repr__(self) -> str:  # no credentials in here, ever
        return f"GoogleVisionEngine(endpoint={self.api_endpoint or 'vision.googleapis.com'!r}, hints={self.language_hints})"

    def _make_client(self, credentials, credentials_json, credentials_file):
        from google.api_core.client_options import ClientOptions
        from google.cloud import vision

        if _is_plain_http(self.api_endpoint):
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
        elif credentials is None:
            credentials = load_credentials(credentials_json, credentials_file)
        options = ClientOptions(api_endpoint=self.api_endpoint) if self.api_endpoint else None
        try:
            return vision.ImageAnnotatorClient(credentials=credentials, transport="rest", client_options=options)
        except Exception as e:  # noqa: BLE001 - google.auth.exceptions.DefaultCredentialsError and kin
            raise Fatal(f"cannot create the Vision client: {type(e).__name__}: {e}") from e

    def close(self) -> None:
        if self._owns_client and self._client is not None:
            transport = getattr(self._client, "transport", None)
            if transport is not None:
                transport.close()
        self._client = None

    # --- OcrEngine ------------------------------------------------------------------------

    def recognize(self, image: np.ndarray) -> list[OcrBox]:
        return self.recognize_batch([image])[0]

    def recognize_batch(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        """One list of line boxes per image; raises if any image failed (see module doc)."""
        result = self.annotate_batch(images)
        if result.failed:
            n, m = len(result.failed), len(images)
            first = result.failed[min(result.failed)]
            if result.permanent:
                raise VisionRequestRejected(f"Vision rejected {n} of {m} frames: {first}", result)
            raise VisionBatchError(f"Vision OCR failed for {n} of {m} frames: {first}", result)
        return [f.lines for f in result.frames]  # type: ignore[union-attr]

    # --- the batch path -------------------------------------------------------------------

    def encode(self, image: np.ndarray) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="JPEG", quality=self.jpeg_quality, optimize=True)
        return buf.getvalue()

    def plan(self, images: Sequence[np.ndarray]) -> tuple[list[Montage], list[list[int]]]:
        """Montages and their grouping into requests (positions into the montage list)."""
        montages, too_large = build_montages(images, self.encode, self.limits, self.separator)
        if too_large:
            raise BadInput(
                f"{len(too_large)} image(s) exceed Vision's per-image limit even alone "
                f"(first: index {too_large[0]}, shape {np.asarray(images[too_large[0]]).shape})"
            )
        return montages, pack_requests([len(m.data) for m in montages], self.limits)

    def annotate_batch(self, images: Sequence[np.ndarray]) -> VisionBatch:
        """OCR every image; per-frame failures are reported, not raised."""
        result = VisionBatch(frames=[None] * len(images))
        if not images:
            return result
        if self._client is None:
            raise Fatal("GoogleVisionEngine is closed")
        montages, batches = self.plan(images)
        result.montages = len(montages)
        for batch in batches:
            self._run_batch([montages[i] for i in batch], result)
        return result

    def _request(self, montage: Montage):
        from google.cloud import vision

        ctx = vision.ImageContext(language_hints=self.language_hints) if self.language_hints else None
        return vision.AnnotateImageRequest(
            image=vision.Image(content=montage.data),
            features=[vision.Feature(type_=vision.Feature.Type.DOCUMENT_TEXT_DETECTION)],
            image_context=ctx,
        )

    def _run_batch(self, montages: list[Montage], result: VisionBatch) -> None:
        """Send one request's montages; resend what failed transiently, with backoff."""
        pending = list(montages)
        last_error = "no attempt made"
        retry_after: float | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                self._sleep(self._delay(attempt - 1, retry_after))
            retry_after = None
            result.requests += 1
            try:
                response = self._client.batch_annotate_images(
                    requests=[self._request(m) for m in pending], retry=None, timeout=self.timeout
                )
            except Exception as e:  # noqa: BLE001 - sorted below
                kind = _classify(e)
                if kind == "auth":
                    raise Fatal(f"Vision refused our credentials: {type(e).__name__}: {_msg(e)}") from e
                last_error = f"{type(e).__name__}: {_msg(e)}"
                if kind == "permanent":
                    self._fail(pending, result, last_error, permanent=True)
                    return
                retry_after = _retry_after(e)
                log.warning("Vision request failed (attempt %d/%d, %d images): %s",
                            attempt + 1, self.max_attempts, len(pending), last_error)
                continue
            retry: list[Montage] = []
            for montage, r in zip(pending, response.responses):
                code = r.error.code if r.error else 0
                if not code:
                    self._distribute(montage, r, result)
                    continue
                reason = f"Vision error {code} ({_TRANSIENT_RPC_CODES.get(code, 'permanent')}): {r.error.message}"
                if code in _TRANSIENT_RPC_CODES:
                    retry.append(montage)
                    last_error = reason
                else:
                    self._fail([montage], result, reason, permanent=True)
            if len(response.responses) < len(pending):  # a short answer: resend the rest
                retry.extend(pending[len(response.responses):])
                last_error = "Vision returned fewer responses than images"
            pending = retry
            if not pending:
                return
            log.warning("Vision: %d image(s) of a batch failed (attempt %d/%d): %s",
                        len(pending), attempt + 1, self.max_attempts, last_error)
        self._fail(pending, result, f"gave up after {self.max_attempts} attempts: {last_error}", permanent=False)

    def _delay(self, retry_index: int, retry_after: float | None = None) -> float:
        """Exponential backoff with jitter: base·2^k, capped, ×[0.5, 1); at least Retry-After."""
        d = min(self.backoff_cap, self.backoff_base * (2**retry_index)) * (0.5 + random.random() / 2)
        if retry_after:
            d = max(d, min(retry_after, self.backoff_cap))
        return d

    @staticmethod
    def _fail(montages: list[Montage], result: VisionBatch, reason: str, permanent: bool) -> None:
        for m in montages:
            for i in m.layout.indices:
                result.failed[i] = reason
                result.frames[i] = None
                if permanent:
                    result.permanent.add(i)

    def _distribute(self, montage: Montage, response, result: VisionBatch) -> None:
        """Map one montage's words to its frames and rebuild lines per frame."""
        layout = montage.layout
        frames = {t.index: FrameText() for t in layout.tiles}
        fta = response.full_text_annotation
        # Vision answers in the pixels we sent; rescale if it ever reports another page size.
        sx = sy = 1.0
        if fta and fta.pages and fta.pages[0].width and fta.pages[0].height:
            sx = layout.width / fta.pages[0].width
            sy = layout.height / fta.pages[0].height
        words = []  # (word proto, paragraph id)
        for page in fta.pages if fta else []:
            for block in page.blocks:
                for para in block.paragraphs:
                    for w in para.words:
                        words.append((w, id(para)))
        if words:
            boxes = np.array([_bbox(w.bounding_box, sx, sy) for w, _ in words])  # (N, 4) montage px
            pos, local = layout.assign(boxes)
            sym_boxes = [[_bbox(s.bounding_box, sx, sy) for s in w.symbols] for w, _ in words]
            line: list[tuple[Word, int]] = []  # (word, break after it)
            line_key: tuple[int, int] | None = None
            for k, (w, para) in enumerate(words):
                tile = layout.tiles[int(pos[k])]
                word = _make_word(w, local[k], sym_boxes[k], tile)
                brk = int(w.symbols[-1].property.detected_break.type_) if w.symbols else 0
                key = (tile.index, para)
                if line and key != line_key:
                    frames[line_key[0]].lines.append(_make_line(line))
                    line = []
                frames[tile.index].words.append(word)
                line.append((word, brk))
                line_key = key
                if brk in (_BREAK_EOL_SURE_SPACE, _BREAK_LINE):
                    frames[tile.index].lines.append(_make_line(line))
                    line = []
            if line:
                frames[line_key[0]].lines.append(_make_line(line))
        for i, ft in frames.items():
            result.frames[i] = ft
            result.failed.pop(i, None)
            result.permanent.discard(i)


# --- helpers ------------------------------------------------------------------------------


def _bbox(poly, sx: float = 1.0, sy: float = 1.0) -> tuple[float, float, float, float]:
    """A bounding poly (any vertex order, maybe rotated) → x0, y0, x1, y1. Vision omits zero
    coordinates in JSON; proto defaults make them 0 here."""
    xs = [v.x for v in poly.vertices] or [0]
    ys = [v.y for v in poly.vertices] or [0]
    return min(xs) * sx, min(ys) * sy, max(xs) * sx, max(ys) * sy


def _make_word(w, local_box, sym_boxes, tile) -> Word:
    x0, y0, x1, y1 = (float(v) for v in local_box)
    symbols = []
    for s, (sx0, sy0, sx1, sy1) in zip(w.symbols, sym_boxes):
        ly0, ly1 = sy0 - tile.y, sy1 - tile.y
        cx0, cx1 = min(max(sx0, 0), tile.width), min(max(sx1, 0), tile.width)
        cy0, cy1 = min(max(ly0, 0), tile.height), min(max(ly1, 0), tile.height)
        symbols.append(Symbol(s.text, float(s.confidence), cx0, cy0, cx1 - cx0, cy1 - cy0))
    text = "".join(s.text for s in w.symbols)
    return Word(text, float(w.confidence), x0, y0, x1 - x0, y1 - y0, tuple(symbols))


def _make_line(items: list[tuple[Word, int]]) -> OcrBox:
    text = ""
    for j, (word, _brk) in enumerate(items):
        text += word.text
        if j + 1 < len(items) and items[j][1] in (_BREAK_SPACE, _BREAK_SURE_SPACE):
            text += " "
    x0 = min(w.x for w, _ in items)
    y0 = min(w.y for w, _ in items)
    x1 = max(w.x + w.width for w, _ in items)
    y1 = max(w.y + w.height for w, _ in items)
    n = sum(max(1, len(w.text)) for w, _ in items)
    conf = sum(w.confidence * max(1, len(w.text)) for w, _ in items) / n
    return OcrBox(text, float(conf), float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def _classify(e: Exception) -> str:
    """transient | auth | permanent, for an exception from one HTTP request."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as gauth_exc

    try:
        import requests

        net = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError)
    except ImportError:  # pragma: no cover
        net = ()
    if isinstance(e, (gexc.Unauthenticated, gexc.Unauthorized, gexc.PermissionDenied, gexc.Forbidden,
                      gauth_exc.RefreshError, gauth_exc.DefaultCredentialsError)):
        return "auth"
    if isinstance(
        e,
        (gexc.TooManyRequests, gexc.ResourceExhausted, gexc.InternalServerError, gexc.ServiceUnavailable,
         gexc.GatewayTimeout, gexc.DeadlineExceeded, gexc.BadGateway, gexc.Aborted, gauth_exc.TransportError,
         ConnectionError, TimeoutError) + net,
    ):
        return "transient"
    if isinstance(e, gexc.GoogleAPICallError) and (e.code or 0) >= 500:
        return "transient"
    return "permanent"


def _retry_after(e: Exception) -> float | None:
    resp = getattr(e, "response", None)
    headers = getattr(resp, "headers", None)
    if not headers:
        return None
    try:
        return float(headers.get("Retry-After"))
    except (TypeError, ValueError):
        return None


def _msg(e: Exception) -> str:
    m = getattr(e, "message", None) or str(e)
    return m[:300]
