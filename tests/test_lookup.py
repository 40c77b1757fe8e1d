"""lookup: one query for many record ids, exact keyword matches only, and what a record's depositions mean.

Mutants left alive, all equivalent: the placeholders inside the sort keys (the text of a number's
id key, the number of a text's, the time of a deposition whose time is unknown, the index of one
whose index is unknown), each behind an element that already decides the order; and the tag that
puts numbers before texts changed to another that still does.
"""

from __future__ import annotations

from archiver.deposit.adapters.legacy import record_query
from archiver.deposit.lookup import Found
from archiver.deposit.port import RemoteDeposition
from archiver.zenodo.double import query as zenodo_query
from archiver.zenodo.legacy_client import LegacyDeposition


def dep(id, concept, published, record_ids=("SRCH:0123ABCD",)):
    return RemoteDeposition(id=id, concept=str(concept), published=published, record_ids=tuple(record_ids))


def test_one_query_asks_for_many_records_and_the_double_reads_it_as_zenodo_does():
    query = record_query(["SRCH:0000000B", "SRCH:0000000A", "SRCH:0000000B"])
    assert query == 'keywords:("SRCH:0000000A" OR "SRCH:0000000B")'
    tree = zenodo_query.parse(query)
    assert zenodo_query.matches({"metadata": {"keywords": ["x", "SRCH:0000000B"]}}, tree)
    assert not zenodo_query.matches({"metadata": {"keywords": ["SRCH:0000000C"], "notes": "SRCH:0000000A"}}, tree)


def test_the_query_tree_binds_and_tighter_than_or_and_reads_not():
    view = {"metadata": {"title": "Routing methods", "keywords": ["a"]}}
    assert zenodo_query.matches(view, zenodo_query.parse('keywords:"b" OR title:routing AND keywords:"a"'))
    assert not zenodo_query.matches(view, zenodo_query.parse('title:routing AND NOT keywords:"a"'))
    assert zenodo_query.matches(view, zenodo_query.parse(""))  # an empty query finds everything


def test_the_record_is_its_first_concept_and_drafts_of_published_concepts_are_new_versions():
    found = Found("SRCH:0123ABCD", (dep(11, 10, True), dep(12, 10, False), dep(21, 20, True), dep(22, 20, True), dep(31, 30, False)))
    assert found.published.id == 11  # the older concept is the record's; the later one a duplicate from before
    assert found.other_concepts == 1
    assert [d.id for d in found.first_drafts] == [31]  # 12 is an open new version of concept 10
    assert Found("SRCH:0123ABCD").published is None and Found("SRCH:0123ABCD").first_drafts == ()


def test_keywords_that_are_not_texts_are_no_keywords():
    odd = LegacyDeposition.model_validate({"id": 1, "metadata": {"keywords": ["SRCH:0123ABCD", 7, None]}})
    assert odd.metadata.keywords == ("SRCH:0123ABCD",)
    assert LegacyDeposition.model_validate({"id": 1, "metadata": {"keywords": "SRCH:0123ABCD"}}).metadata.keywords == ()


# ---------------------------------------------------------------------------- order without numbers (another repository's ids)

import datetime as dt  # noqa: E402

from archiver.deposit.lookup import creation_order, find_records, id_order, version_order  # noqa: E402


def _at(deposition_id, concept, created=None, **more):
    return RemoteDeposition(id=deposition_id, concept=concept, created=dt.datetime.fromisoformat(created) if created else None, **more)


def test_ids_order_numbers_by_value_and_text_as_text_numbers_first():
    assert id_order(9) < id_order(10) < id_order("00000-16j82") < id_order("zzzzz-zzz90")
    assert id_order(10) != id_order(9) and id_order("a") != id_order("b")


def test_creation_order_is_the_time_the_repository_says_then_the_id_and_unknown_times_last():
    early = _at("zzzzz-zzz90", "c", "2026-06-01T10:00:00+00:00")
    later = _at("00000-16j82", "c", "2026-06-01T10:00:01+00:00")
    same_time = _at("00000-16j82", "d", "2026-06-01T10:00:00+00:00")
    unknown = _at("00000-00098", "e")
    assert sorted([unknown, later, early, same_time], key=creation_order) == [same_time, early, later, unknown]
    # another zone, the same instant: the same place
    assert creation_order(_at(1, "c", "2026-06-01T12:00:00+02:00"))[:2] == creation_order(_at(1, "c", "2026-06-01T10:00:00+00:00"))[:2]


def test_version_order_is_the_index_where_known_else_the_creation():
    first = _at("zzzzz-zzz90", "c", "2026-06-02T10:00:00+00:00", version_index=1)  # created later, yet the first version
    second = _at("00000-16j82", "c", "2026-06-01T10:00:00+00:00", version_index=2)
    assert max([first, second], key=version_order) == second
    assert max([_at(5, "c"), _at(7, "c")], key=version_order).id == 7  # the legacy API: no index, the higher number
    assert version_order(second) > version_order(_at(99, "c", "2026-07-01T10:00:00+00:00"))  # an index outranks none


def test_found_lists_depositions_earliest_created_first_and_its_record_is_the_earliest_concept():
    class Listing:
        def search(self, record_ids):
            return [_at("zzzzz-zzz90", "late", "2026-06-02T10:00:00+00:00", published=True, record_ids=("SRCH:4A7C19E2",)),
                    _at("00000-16j82", "early", "2026-06-01T10:00:00+00:00", published=True, record_ids=("SRCH:4A7C19E2",))]

    found = find_records(Listing(), ["SRCH:4A7C19E2"])["SRCH:4A7C19E2"]  # type: ignore[arg-type]
    assert [d.concept for d in found.depositions] == ["early", "late"]
    assert found.published is not None and found.published.concept == "early" and found.other_concepts == 1


def test_records_are_asked_for_fifty_at_a_time_and_each_hit_counts_once_for_the_records_asked():
    asked: list[list[str]] = []
    wanted = [f"SRCH:{n:08X}" for n in range(120)]

    class Listing:
        def search(self, record_ids):
            asked.append(list(record_ids))
            hit = RemoteDeposition(id=7, concept="c", record_ids=(record_ids[0], "SRCH:FFFFFFFF"))  # names one not asked for
            return [hit, hit]  # a page boundary that lists it twice

    found = find_records(Listing(), wanted)  # type: ignore[arg-type]
    assert [len(ids) for ids in asked] == [50, 50, 20] and sorted(sum(asked, [])) == sorted(wanted)
    assert set(found) == set(wanted) and "SRCH:FFFFFFFF" not in found
    assert [len(found[ids[0]].depositions) for ids in asked] == [1, 1, 1]
    assert found[wanted[1]].depositions == () and found[wanted[1]].published is None and found[wanted[1]].other_concepts == 0
