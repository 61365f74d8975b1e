"""Chapter 11 data pipeline: cleaning, duplicates, stratified split."""

import numpy as np
import pytest

from course_utils.project import data as pdata


def test_clean_text():
    assert pdata.clean_text("Good.<br /><br />Very  good &amp; fun\t") == "Good. Very good & fun"
    assert pdata.clean_text("Cafe\u0301") == "Caf\u00e9"
    assert pdata.clean_text("<i>fine</i>") == "fine"
    with pytest.raises(TypeError):
        pdata.clean_text(3)


def test_near_duplicates_are_removed_and_conflicts_counted():
    texts = ["Great film!", "great film", "Bad.", "Great  film!", "Caf\u00e9 scene", "Cafe scene"]
    labels = [1, 1, 0, 0, 1, 1]
    keep, report = pdata.deduplicate(texts, labels)
    assert keep.tolist() == [0, 2, 4]
    assert report == {"exact": 0, "near": 3, "conflicting": 1}
    keep, report = pdata.deduplicate(["a", "a"], [0, 0])
    assert keep.tolist() == [0] and report["exact"] == 1


def test_stratified_split_is_disjoint_complete_and_stratified():
    strata = ["neg"] * 160 + ["pos"] * 40
    split = pdata.stratified_split(strata, (0.7, 0.15, 0.15), seed=0)
    all_rows = np.concatenate(list(split.values()))
    assert sorted(all_rows.tolist()) == list(range(200))
    arr = np.asarray(strata)
    for name, frac in zip(("train", "validation", "test"), (0.7, 0.15, 0.15)):
        assert abs((arr[split[name]] == "pos").sum() - frac * 40) <= 1
    again = pdata.stratified_split(strata, (0.7, 0.15, 0.15), seed=0)
    assert all(np.array_equal(split[k], again[k]) for k in split)
    with pytest.raises(ValueError):
        pdata.stratified_split(strata, (0.5, 0.5, 0.5))


def test_prepare_corpus_keeps_the_official_test_split():
    corpus = pdata.prepare_corpus("reviews", n_examples=400, seed=0, val_fraction=0.15)
    sizes = {s: len(corpus.split(s)) for s in ("train", "validation", "test")}
    assert sizes["train"] == 340 and sizes["validation"] == 60
    assert sizes["test"] + corpus.report["duplicates_exact"] + corpus.report["duplicates_near"] >= 3000 - 10
    assert (corpus.table.loc[corpus.table["split"] == "test", "origin"] == "test").all()
    assert not (corpus.table.loc[corpus.table["split"] != "test", "origin"] == "test").any()
    for s in sizes:
        assert corpus.split(s)["label"].mean() == pytest.approx(0.5, abs=0.02)
    keys = {pdata.near_duplicate_key(t) for t in corpus.table["text"]}
    assert len(keys) == len(corpus.table)  # no near duplicates within or across splits
    assert pdata.length_stats(corpus.table["text"])["max"] > 0
