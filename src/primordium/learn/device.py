"""Where a model trains: ``cpu``, ``gpu`` (CUDA) or ``auto`` (the GPU when there is one)."""

from __future__ import annotations

from primordium.errors import ConfigError

DEVICES = ("cpu", "gpu", "auto")


def torch_device(device: str):
    """The ``torch.device`` for a requested device; a GPU asked for that is not there is an error."""
    import torch

    if device not in DEVICES:
        raise ConfigError(
            f"device must be one of {', '.join(DEVICES)}, not {device!r}", field="device"
        )
    if device == "auto":
        device = "gpu" if torch.cuda.is_available() else "cpu"
    if device == "gpu":
        if not torch.cuda.is_available():
            raise ConfigError("device gpu: PyTorch sees no CUDA device", field="device")
        return torch.device("cuda")
    return torch.device("cpu")
