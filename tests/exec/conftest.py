import sys
from pathlib import Path

# Worker processes (spawned, or Ray's) import the task module by name.
sys.path.insert(0, str(Path(__file__).parent))

import os

# Keep every byte of the test cluster's traffic on loopback: without this Ray
# replaces 127.0.0.1 with the machine's own network address.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
# A local ray.init() elsewhere may have left a token in ~/.ray; a test cluster
# on loopback runs without token authentication, whatever is on the machine.
os.environ["RAY_AUTH_MODE"] = "disabled"
