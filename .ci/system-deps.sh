#!/usr/bin/env bash
# System packages the tests need, installed only when missing (root + apt on Debian).
# Noto CJK: the fonts the training renderer draws its training captions with (training's tests
# render with them too). --train is still accepted; it no longer changes anything.
set -uo pipefail
need=()
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
command -v redis-server >/dev/null || need+=(redis-server)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v fc-list >/dev/null || need+=(fontconfig)
# Debian's FFmpeg has libass (the subtitles= filter): the realistic benchmark and its tests burn
# ASS captions over real footage with it (PyAV's bundled FFmpeg has no libass).
[[ "$(ffmpeg -hide_banner -filters 2>/dev/null)" == *" subtitles "* ]] || need+=(ffmpeg)
# Noto Sans/Serif: the languages benchmark draws Cyrillic, Vietnamese and Latin captions with them.
[ -e /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf ] || need+=(fonts-noto-core)
# Tesseract models for the caption languages PP-OCR's shipped recogniser cannot read (the
# recogniser itself is the tesserocr wheel): Cyrillic (ru uk bg), Korean, Vietnamese, Arabic,
# Hebrew, Hindi, Thai, Greek; OSD and the script models serve --lang auto. Other languages:
# apt-get install tesseract-ocr-<model>.
for pkg in osd eng rus ukr bul kor vie ara heb hin tha ell script-cyrl script-hang script-viet \
           script-arab script-hebr script-deva script-thai script-grek; do
  f=${pkg#script-}
  case $pkg in
    script-cyrl) f=Cyrillic;; script-hang) f=Hangul;; script-viet) f=Vietnamese;; script-arab) f=Arabic;;
    script-hebr) f=Hebrew;; script-deva) f=Devanagari;; script-thai) f=Thai;; script-grek) f=Greek;;
  esac
  [ -e /usr/share/tesseract-ocr/5/tessdata/$f.traineddata ] || need+=(tesseract-ocr-$pkg)
done
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing system packages: ${need[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/tmp/captionacc-apt.log 2>&1 \
      || echo "warning: apt-get failed (see /tmp/captionacc-apt.log); tests needing ${need[*]} will skip or fail"
  else
    echo "warning: missing ${need[*]} and cannot apt-get; install them by hand"
  fi
fi
exit 0
