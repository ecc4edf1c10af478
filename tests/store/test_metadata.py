"""The arXiv metadata cache (m010): what is saved is what is read back."""

from __future__ import annotations

import dataclasses
import datetime as dt

from newsletter.core.model import PaperMeta
from newsletter.store import Store, metadata

META = PaperMeta(
    arxiv_id="hep-th/9901001",
    version=2,
    title="A title",
    authors=("A. One", "李伟"),
    abstract="First paragraph.\n\nSecond.",
    primary_category="hep-th",
    categories=("hep-th", "gr-qc"),
    published=dt.datetime(1999, 1, 1, tzinfo=dt.UTC),
    updated=dt.datetime(1999, 2, 1, 12, 30, 5, tzinfo=dt.UTC),
    pdf_url="https://arxiv.org/pdf/hep-th/9901001v2",
    fetched_at=dt.datetime(2024, 7, 16, 8, 0, tzinfo=dt.UTC),
)


def test_saved_metadata_reads_back_the_same() -> None:
    store = Store.open_in_memory()
    with store.transaction() as db:
        assert metadata.save(db, [META]) == 1
    assert metadata.get(store.db, ["hep-th/9901001", "2407.04051"]) == {"hep-th/9901001": META}


def test_saving_again_replaces() -> None:
    store = Store.open_in_memory()
    newer = dataclasses.replace(META, version=3, authors=("A. One",))
    with store.transaction() as db:
        metadata.save(db, [META])
        metadata.save(db, [newer])
    assert metadata.get(store.db, [META.arxiv_id])[META.arxiv_id] == newer


def test_many_ids_at_once() -> None:
    store = Store.open_in_memory()
    metas = [dataclasses.replace(META, arxiv_id=f"2407.{10000 + i}") for i in range(1200)]
    with store.transaction() as db:
        metadata.save(db, metas)
    assert len(metadata.get(store.db, [meta.arxiv_id for meta in metas])) == 1200
