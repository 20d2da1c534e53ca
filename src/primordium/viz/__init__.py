"""Pictures and videos: figures on matplotlib (``figures``, ``charts``), frames in, files out (``media``).

``figures`` and ``charts`` import matplotlib only when called.
"""

from primordium.viz.figures import DOUBLE, SINGLE, figure, save, style
from primordium.viz.media import save_gif, save_png, save_video

__all__ = ["DOUBLE", "SINGLE", "figure", "save", "save_gif", "save_png", "save_video", "style"]
