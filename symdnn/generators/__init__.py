"""Network generators: RadiX-Net-style sparse topologies, streamed to disk layer by layer."""

from __future__ import annotations

from symdnn.generators.radixnet import default_radices, generate_radixnet, radixnet_layer

__all__ = ["radixnet_layer", "generate_radixnet", "default_radices"]
