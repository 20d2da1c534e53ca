"""Learned simulators: a small GPT trainer (PyTorch) and LifeGPT on Life-like automata."""
