"""lookup: one query for many record ids, exact keyword matches only, and what a record's depositions mean."""

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
