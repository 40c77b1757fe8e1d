"""The deposit stage: records of an export deposited exactly once, through either Zenodo API (see flow.py)."""
