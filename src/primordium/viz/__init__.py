"""Pictures and videos: frames in, files out."""

from primordium.viz.media import save_gif, save_png, save_video

__all__ = ["save_gif", "save_png", "save_video"]
