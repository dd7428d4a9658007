"""Regenerate the bundled demo clip: English and Chinese captions over real footage.

    .venv/bin/python examples/make_sample.py
"""

import os

from synth.clip import make_clip

HERE = os.path.dirname(os.path.abspath(__file__))

CAPTIONS = [
    (0.6, 2.4, "Welcome to CaptionAcc"),
    (2.4, 4.2, "欢迎使用字幕提取"),
    (4.8, 5.2, "Quick!"),
    (5.8, 8.0, "Burned-in captions become text"),
    (8.0, 10.2, "每一句字幕都有准确的时间"),
    (10.8, 12.6, "Thanks for watching"),
]

if __name__ == "__main__":
    truth = make_clip(os.path.join(HERE, "sample.mp4"), CAPTIONS, duration=13.5, width=854,
                      height=480, fps=25, seed=0, truth_path=os.path.join(HERE, "sample.json"))
    print(f"wrote examples/sample.mp4 with {len(truth['captions'])} captions")
