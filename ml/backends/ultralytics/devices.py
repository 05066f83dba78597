"""Which accelerator torch sees on this host (the GPU queue serves only hosts
that have one)."""

from __future__ import annotations


def accelerator() -> str | None:
    """ "cuda" or "mps" when torch can use one, else None (CPU only)."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return None
