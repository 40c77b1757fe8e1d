"""A local Zenodo double over real HTTP on 127.0.0.1, answering both APIs from one store (see server.py)."""

from archiver.zenodo.double.server import DoubleState, Faults, ZenodoDouble

__all__ = ["DoubleState", "Faults", "ZenodoDouble"]
