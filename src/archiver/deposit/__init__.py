"""The deposit stage: records of an export deposited exactly once, through either API (the story of a run: runner.py)."""
