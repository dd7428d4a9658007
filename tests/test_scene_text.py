"""The layout's scene texts (signs, logos) never enter a caption's text, and a span showing only
them is no caption."""

from tasks.ocr.base import OcrBox
from tasks.scene_text import is_scene_fragment, is_scene_text, without_scene_text

SCENE = ("shimokitazawastation", "下北沢駅", "小田急線のりば東口改札")


def test_readings_of_a_sign_are_scene_text_and_captions_naming_it_are_not():
    assert is_scene_text("Shimo-Kitazawa Statio", SCENE)  # a reading cut short
    assert is_scene_text("北沢駅", SCENE)  # part of the sign
    assert is_scene_text("小日急瞳のりは（東口改礼）", SCENE)  # the hard line, read otherwise
    assert not is_scene_text("下北沢駅に着いたよ", SCENE)  # a caption that names the station
    assert not is_scene_text("Station", SCENE)  # a word of it, alone
    assert not is_scene_text("这场雪大概要下到明天中午", SCENE)
    assert not is_scene_text("下北沢駅", ())


def test_boxes_reading_like_the_sign_are_dropped_and_the_caption_kept():
    boxes = [OcrBox("下北沢駅", 0.99, 500, 10, 120, 40), OcrBox("没想到这么晚了", 0.99, 400, 60, 420, 44),
             OcrBox("Shimo-Kitazawa Station", 0.98, 480, 110, 240, 30)]
    assert [b.text for b in without_scene_text(boxes, SCENE)] == ["没想到这么晚了"]
    assert without_scene_text(boxes, ()) == boxes


def test_a_glimpse_of_the_sign_beside_a_caption_line_is_dropped_but_never_the_caption():
    """The redraw benchmark's midframe_station read "下北新 / 我从来没见过这么漂亮的夜景": the
    sign's edge in the band, a fragment too short for is_scene_text."""
    assert not is_scene_text("下北新", SCENE) and is_scene_fragment("下北新", SCENE)
    assert not is_scene_fragment("北京", SCENE)  # too short to tell
    assert not is_scene_fragment("我们在东口见面吧", SCENE)
    glimpse = OcrBox("下北新", 0.9, 500, 10, 90, 40)
    caption = OcrBox("我从来没见过这么漂亮的夜景", 0.99, 300, 60, 600, 44)
    assert [b.text for b in without_scene_text([glimpse, caption], SCENE)] == [caption.text]
    assert [b.text for b in without_scene_text([glimpse], SCENE)] == ["下北新"]  # alone: kept
    two = [OcrBox("Station", 0.99, 500, 10, 120, 40), OcrBox("Shimo", 0.99, 500, 60, 120, 40)]
    assert without_scene_text(two, SCENE) == two  # every line a fragment: nothing to tell apart


def test_scene_texts_load_from_layout_db_and_absence_is_no_scene_text(tmp_path):
    """A layout.db of today's schema gives its scene texts (bare); no layout.db, or one written
    before the table existed, gives none instead of failing the caption job."""
    from tasks.databases import LAYOUT_SCHEMA, new_db, publish_db
    from tasks.scene_text import load_scene_texts
    from tasks.storage import LocalStorage

    storage = LocalStorage(tmp_path / "bucket")
    assert load_scene_texts(storage, "t/videos/v/layout.db.gz") == ()
    with new_db(LAYOUT_SCHEMA) as (conn, path):
        conn.executemany("INSERT INTO scene_texts VALUES (?,?)", [("Shimo-Kitazawa Station", 24), ("下北沢駅", 19)])
        publish_db(conn, path, storage, "t/videos/v/layout.db.gz")
    assert load_scene_texts(storage, "t/videos/v/layout.db.gz") == ("shimokitazawastation", "下北沢駅")
    with new_db(LAYOUT_SCHEMA.replace("CREATE TABLE scene_texts", "CREATE TABLE old_scene_texts")) as (conn, path):
        publish_db(conn, path, storage, "t/videos/w/layout.db.gz")
    assert load_scene_texts(storage, "t/videos/w/layout.db.gz") == ()
