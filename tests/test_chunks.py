import json

import av
import numpy as np
import pytest

from tasks.chunks import ChunkWriter, level_of, load_manifest, read_frames
from tasks.errors import CorruptData, InvalidFrameRange, MissingObject


def _frame(i, h=32, w=96):
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :] = (i * 7) % 200 + 20
    return img


def _write(storage, n, prefix="p/cropped_frames_v1"):
    writer = ChunkWriter(96, 32, lambda rel, local: storage.put_file(f"{prefix}/{rel}", local))
    for i in range(n):
        writer.add(i, _frame(i))
    manifest = writer.finish(version=1)
    storage.put_bytes(f"{prefix}/manifest.json", json.dumps(manifest).encode())
    return manifest


def test_levels_are_disjoint():
    assert [level_of(i) for i in (0, 4, 8, 16, 17, 32, 48, 52)] == [16, 4, 4, 16, 1, 16, 16, 4]


def test_every_frame_in_exactly_one_chunk_of_its_level_no_tail_lost(storage):
    n = 1100  # ends mid-chunk on every level
    manifest = _write(storage, n)
    seen = []
    for c in manifest["chunks"]:
        m, k = c["modulo"], c["chunk_index"]
        assert c["key"] == f"modulo_{m}/chunk_{k:04d}.webm"
        for i in c["frame_indices"]:
            assert level_of(i) == m
            assert k * 32 * m <= i < (k + 1) * 32 * m
        # The chunk decodes to exactly its frames, in order, with the right content.
        with storage.open_local(f"p/cropped_frames_v1/{c['key']}") as path:
            with av.open(path) as cont:
                frames = [f.to_ndarray(format="rgb24") for f in cont.decode(video=0)]
        assert len(frames) == len(c["frame_indices"])
        for i, img in zip(c["frame_indices"], frames):
            assert abs(float(img.mean()) - float(_frame(i).mean())) < 6
        seen += c["frame_indices"]
    assert sorted(seen) == list(range(n))
    assert manifest["frame_count"] == n
    levels = {c["modulo"]: 0 for c in manifest["chunks"]}
    for c in manifest["chunks"]:
        levels[c["modulo"]] += 1
    # 1100 frames: level 16 spans 512/chunk → 3 chunks; level 4 spans 128 → 9; level 1 spans 32 → 35.
    assert levels == {16: 3, 4: 9, 1: 35}


def test_read_frames_uses_coarse_levels_first(storage):
    _write(storage, 300)
    idx, frames = read_frames(storage, "p/cropped_frames_v1", 10, 200, want=31)
    assert all(10 <= i < 200 for i in idx)
    assert all(i % 4 == 0 for i in idx)  # levels 16 and 4 already give ≥ 31 frames
    assert len(idx) == len(frames) >= 31
    idx, _ = read_frames(storage, "p/cropped_frames_v1", 17, 20, want=31)
    assert idx == [17, 18, 19]


def test_read_frames_errors(storage):
    with pytest.raises(MissingObject):
        read_frames(storage, "p/cropped_frames_v1", 0, 10)
    _write(storage, 100)
    for start, end in [(5, 5), (9, 3), (-1, 4), (50, 101), (200, 300)]:
        with pytest.raises(InvalidFrameRange):
            read_frames(storage, "p/cropped_frames_v1", start, end)
    storage.delete("p/cropped_frames_v1/modulo_1/chunk_0000.webm")
    with pytest.raises(MissingObject):
        read_frames(storage, "p/cropped_frames_v1", 1, 3)
    storage.put_bytes("p/cropped_frames_v1/modulo_16/chunk_0000.webm", b"not a webm")
    with pytest.raises(CorruptData):
        read_frames(storage, "p/cropped_frames_v1", 0, 60)
    storage.put_bytes("p/cropped_frames_v1/manifest.json", b"{broken")
    with pytest.raises(CorruptData):
        load_manifest(storage, "p/cropped_frames_v1")


def test_reader_decodes_each_chunk_once_for_a_whole_video(storage):
    from tasks.chunks import ChunkReader

    manifest = _write(storage, 600)
    with ChunkReader(storage, "p/cropped_frames_v1") as reader:
        for start in range(0, 600, 15):  # 40 consecutive 1.5 s captions
            idx, frames = reader.frames(start, start + 15)
            assert idx == sorted(idx) and all(start <= i < start + 15 for i in idx)
            assert len(idx) == 15  # short captions need level 1 too: every frame
        assert reader.chunks_decoded == len(manifest["chunks"])
