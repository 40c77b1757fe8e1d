"""IdSet: an exact, compact set of record ids, checked against Python's set."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.idset import IdSet

ids = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda n: f"SRCH:{n:08X}"),
    st.integers(0, 40).map(lambda n: f"SRCH:{n:08X}"),  # plenty of repeats
    st.text(max_size=12),
)


@settings(max_examples=200)
@given(st.lists(ids, max_size=300))
def test_idset_agrees_with_a_python_set(values):
    compact, reference = IdSet(buffer_size=8, max_runs=2), set()
    for value in values:
        assert compact.add(value) is (value not in reference)
        reference.add(value)
    assert len(compact) == len(reference)


def test_ids_spill_into_sorted_runs_and_stay_exact():
    compact = IdSet(buffer_size=100, max_runs=3)
    for n in range(5000):
        assert compact.add(f"SRCH:{n * 7919 % 2**32:08X}")
    assert len(compact.runs) <= 4 and len(compact.buffer) < 100
    assert not compact.add("SRCH:00000000")
    assert not compact.add(f"SRCH:{4999 * 7919 % 2**32:08X}")
    assert compact.add("SRCH:FFFFFFFF")
