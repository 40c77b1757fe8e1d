"""A local Zenodo double over real HTTP on 127.0.0.1, answering both APIs from one store (see server.py)."""

from archiver.zenodo.double.server import ZenodoDouble
from archiver.zenodo.double.store import DoubleState, Faults

__all__ = ["DoubleState", "Faults", "ZenodoDouble"]
