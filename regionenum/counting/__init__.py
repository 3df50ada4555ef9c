"""Counting without enumerating: upper bounds from the literature (:mod:`.bounds`), networks with
known counts (:mod:`.constructions`) and cheap estimators, each saying what it estimates
(:mod:`.estimators`)."""
from . import bounds, constructions, estimators

__all__ = ["bounds", "constructions", "estimators"]
