"""The process helpers the realservers modules import: they live in labtools (shared with capacity/ and bench/)."""

from labtools import Managed, free_port, spawn, wait_http

__all__ = ["Managed", "free_port", "spawn", "wait_http"]
