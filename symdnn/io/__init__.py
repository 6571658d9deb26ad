"""Readers and writers for the formats symdnn's users bring: the Graph Challenge files."""

from __future__ import annotations

from symdnn.io.graphchallenge import (
    ChallengeFiles,
    GCLayer,
    find_challenge_files,
    read_categories,
    read_images,
    read_layer,
    write_categories,
    write_images,
    write_layer,
)

__all__ = [
    "GCLayer", "ChallengeFiles", "find_challenge_files", "read_layer", "write_layer",
    "read_images", "write_images", "read_categories", "write_categories",
]
