"""Matching: from a need to the nodes that can make it."""
