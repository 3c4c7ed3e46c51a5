"""Emitters: solutions, SFT datasets, eval rubrics and their manifests."""
