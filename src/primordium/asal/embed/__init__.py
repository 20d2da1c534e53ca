"""Foundation models that embed frames and prompts into one space."""

from primordium.asal.embed.base import MODELS, FoundationModel, get_model, normalise

__all__ = ["MODELS", "FoundationModel", "get_model", "normalise"]
