"""Write uint8 RGB frames as PNG, GIF or MP4, atomically; stamp a line of text under a frame."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from primordium.errors import PrimordiumError
from primordium.store.atomic import atomic_write_bytes
from primordium.viz.fonts import load_font


def _as_uint8(frames: np.ndarray) -> np.ndarray:
    a = np.asarray(frames)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return a


def stamp(img: np.ndarray, text: str, short: str | None = None) -> np.ndarray:
    """``img`` with a white strip below it carrying ``text`` in the toolkit's font
    (``short`` instead when ``text`` does not fit the width)."""
    from PIL import Image, ImageDraw

    size = 14
    strip = size + 10
    frame = Image.new("RGB", (img.shape[1], img.shape[0] + strip), (255, 255, 255))
    frame.paste(Image.fromarray(np.ascontiguousarray(img)), (0, 0))
    draw, font = ImageDraw.Draw(frame), load_font(size)
    if short is not None and draw.textlength(text, font=font) > img.shape[1] - 12:
        text = short
    draw.text((6, img.shape[0] + strip // 2), text, fill=(20, 20, 20), font=font, anchor="lm")
    return np.asarray(frame)


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """One frame, uint8[H, W, 3] (or float in [0, 1])."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(_as_uint8(image)).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def save_gif(frames: np.ndarray, path: str | Path, fps: float = 10.0) -> Path:
    """Frames uint8[T, H, W, 3] as a looping GIF."""
    from PIL import Image

    imgs = [Image.fromarray(f) for f in _as_uint8(frames)]
    if not imgs:
        raise ValueError("no frames")
    buf = io.BytesIO()
    imgs[0].save(
        buf, format="GIF", save_all=True, append_images=imgs[1:], duration=int(1000 / fps), loop=0
    )
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def save_video(frames: np.ndarray, path: str | Path, fps: float = 10.0) -> Path:
    """GIF or MP4, chosen by the file's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return save_gif(frames, path, fps)
    if suffix == ".png":
        return save_png(_as_uint8(frames)[-1], path)
    if suffix != ".mp4":
        raise PrimordiumError(
            f"unsupported video format {suffix!r} (use .gif, .mp4 or .png)", file=path
        )
    try:
        import imageio.v3 as iio
        import imageio_ffmpeg  # noqa: F401  (ships its own ffmpeg binary)
    except ImportError:
        raise PrimordiumError(
            "MP4 needs the 'asal' extra (imageio-ffmpeg); use .gif", file=path
        ) from None
    a = _as_uint8(frames)
    # H.264 wants even sides.
    a = a[:, : a.shape[1] // 2 * 2, : a.shape[2] // 2 * 2]
    tmp = path.with_name(f".{path.name}.tmp.mp4")
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(tmp, a, fps=fps, codec="libx264", macro_block_size=1)
    tmp.replace(path)
    return path
