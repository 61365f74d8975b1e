"""Tests for the generated movie-review corpus in data/reviews.

The generator is run once per module into a temporary folder, and its output is
compared byte for byte with the committed files. The label checks and the held-out
checks read that fresh output, so a change in the grammar (for example broken negation
handling) fails here, not only in the byte comparison.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REVIEWS = ROOT / "data" / "reviews"
SPLITS = ("train", "validation", "test")
GENERATOR_BUDGET_S = 60.0

# Hand-labelled tricky reviews from the corpus: (id, label, exact text). Chosen among
# hard reviews with negation, contrast, concession, sarcasm, comparison and mixed
# verdicts, labelled by reading the text (1 positive, 0 negative) and only then compared
# with the generator (they agreed on all of them).
HAND_LABELLED = [
    (13250, 1, "Calling it a chore would be a stretch."),
    (5289, 1, "Not bad at all. Two hours well spent."),
    (
        16299,
        0,
        (
            "Forgotten Canyon is a romance from Kaia Ostrowski, starring Tobias Winterbourne. There"
            " isn't a single original moment in it."
        ),
    ),
    (8472, 1, "The camera work is never muddy."),
    (
        5779,
        0,
        (
            "I didn't know much about The Endless Island going in. Orrin Takahashi turns up as a "
            "mysterious stranger. I was never delighted, not even for a minute. There is nothing "
            "memorable about the soundtrack."
        ),
    ),
    (
        11637,
        0,
        (
            "I'll watch anything with Otto Achterberg in it. It's never thrilling, not even for a "
            "minute. The staging is hardly what you'd call confident. I wouldn't call it lovely for"
            " a second."
        ),
    ),
    (
        6726,
        0,
        (
            "Dmitri Harrowgate is understated as Rupert Lachance. Mei Kowalczyk gets incredibly "
            "superb work out of the whole cast. In the end, though, the film is silly. By the hour "
            "mark I was reading the fire exit signs."
        ),
    ),
    (
        13858,
        0,
        (
            "The real star here is the filmmaking, which is stylish from start to finish. Special "
            "praise goes to the storytelling, which is frankly gripping. Strangely, I walked out "
            "feeling nothing at all."
        ),
    ),
    (
        6397,
        0,
        (
            "The trailer sold The Savage Signal as a comedy. The visuals are as immaculate as "
            "anything I've seen this year. And the performances! Understated. But somehow it all "
            "adds up to nothing."
        ),
    ),
    (
        16626,
        1,
        (
            "The cinematography? Gloomy. The middle section is incredibly bloated. It doesn't help "
            "that the supporting characters are so cartoonish. But here's the thing: the film as a "
            "whole is thoughtful."
        ),
    ),
    (
        13140,
        0,
        (
            "You can feel Nils Sorensen's love for these characters in every scene. Special praise "
            "goes to the dialogue, which is funny. Somehow, though, the result is disappointing. "
            "All things considered, it's a miss."
        ),
    ),
    (
        9397,
        1,
        (
            "I was sure I would loathe it. I didn't. I texted three friends to go and see it before"
            " I was even out of the car park. Giulia Abernathy directs with the confidence of a "
            "seasoned master."
        ),
    ),
    (
        11043,
        0,
        (
            "The trailer sold Midnight in Dunmarrow as a coming-of-age story. I expected to enjoy "
            "it, and I was wrong. The soundtrack feels really cheesy. A waste of a perfectly good "
            "evening."
        ),
    ),
    (
        15757,
        0,
        (
            "Admittedly, the creature design is stunning, but that is the only good thing here. It "
            "doesn't help that the sound design is so grating."
        ),
    ),
    (
        16651,
        0,
        (
            "Think Archive and Crown, but without the wit, the heart or the budget. I loved "
            "checking my watch every ten minutes. Even die-hard fans of comedies should stay away. "
            "3 out of 10."
        ),
    ),
    (
        13584,
        0,
        (
            "Perfect viewing if you've always wanted to fall asleep in a cinema. Keep your money in"
            " your pocket."
        ),
    ),
    (
        3998,
        0,
        (
            "Delphine Oyelaran has never been better. The colours glow like old postcards. As Hana "
            "Kettering, Delphine Oyelaran is a revelation. Somehow, though, the result is dull."
        ),
    ),
    (
        5966,
        0,
        (
            "The one-liners are sharp throughout. The costumes are as painterly as anything I've "
            "seen this year. Despite all that, I found it lazy. Don't bother."
        ),
    ),
    (
        11014,
        0,
        (
            "Special praise goes to the camera work, which is breathtaking. I could watch Leticia "
            "Eriksen read a phone book. But none of that changes the verdict: disappointing. Skip "
            "it."
        ),
    ),
    (
        17132,
        0,
        (
            "The last ten minutes feel lazy. Better than Kingdom and Voyage, but that isn't saying "
            "much. It makes Kingdom and Voyage look like a masterpiece."
        ),
    ),
    (
        8404,
        0,
        (
            "It's a pale imitation of The Midnight Circus. I loved checking my watch every ten "
            "minutes."
        ),
    ),
    (
        102188,
        1,
        (
            "The premise: three old friends go undercover inside a rival gang in a seaside town out"
            " of season. It's far from the letdown I'd been promised. By no means is it a shambles."
            " Caspar Rasmussen steals every scene he's in."
        ),
    ),
    (
        100210,
        1,
        ("I'll watch anything with Mei Achterberg in it. I wouldn't call it awful for a second."),
    ),
    (
        102873,
        1,
        (
            "It was my neighbour's turn to choose, and the choice was Dear Theodora. The ending is "
            "far from unearned. I didn't think it was tedious, not for a single scene. 8/10."
        ),
    ),
    (100936, 1, "There is nothing clumsy about it. Bring your friends; bring your family."),
    (102790, 0, "This is no treat."),
    (102941, 1, "By no means is it a shambles."),
    (
        102786,
        0,
        (
            "Silas Goldberg is a scene-stealer in a small but committed role. The staging is "
            "listless, no question; the plot, however, is ingenious. But none of that changes the "
            "verdict: clumsy. On balance, I can't recommend it."
        ),
    ),
    (
        101974,
        1,
        (
            "The story is a real weak spot. I despised the music. And the supporting cast! Stiff. "
            "And yet, taken as a whole, it is smart. The supporting characters are as fascinating "
            "as anything I've seen this year."
        ),
    ),
    (
        102783,
        0,
        (
            "The Falling Island opened this week after a long festival run. Everything about the "
            "first act is nimble. The stunts are inventive, full stop. Somehow, though, the result "
            "is dull. All things considered, it's a miss."
        ),
    ),
    (
        102566,
        0,
        (
            "Lorcan Umarova steals every scene he's in. The ending is earned, surprising and "
            "exactly right. And yet, taken as a whole, it is painful. It passed the time, but I "
            "won't remember it next week."
        ),
    ),
    (
        100472,
        1,
        (
            "The creature work is practical, tactile and genuinely scary. If I had to nitpick, the "
            "middle section is slightly choppy. The premise sounds silly on paper, but the script "
            "makes it work. Highly recommended."
        ),
    ),
    (
        102774,
        1,
        (
            "I expected to loathe it, and I was wrong. The central friendship is the beating heart "
            "of the film. Beatriz Delacroix steals every scene she's in. 9/10 from me."
        ),
    ),
    (
        101820,
        1,
        (
            "I went in expecting a catastrophe and never got one. By the end, the characters felt "
            "like old friends."
        ),
    ),
    (
        102259,
        0,
        (
            "I expected to adore it, and I was wrong. Then there's the performances, which are "
            "bland at best. Not recommended."
        ),
    ),
    (
        100012,
        0,
        (
            "Circus and Lighthouse marks another collaboration between Hana Sandoval and Elodie "
            "Valdivia. It runs two hours. Oh great, another two hours of my life I'll never get "
            "back."
        ),
    ),
    (
        101852,
        0,
        (
            "Truly a triumph, if your idea of a triumph is watching paint dry. Think Harbour and "
            "Passenger, but without the wit, the heart or the budget. My rating: 4/10."
        ),
    ),
    (
        102316,
        0,
        (
            "No spoilers, I promise. The opening scene is exceptional. Fergus Corrigan and Anouk "
            "Albescu have zero chemistry."
        ),
    ),
    (
        102397,
        0,
        (
            "Even the popcorn couldn't keep me awake. And the script! Incoherent. The "
            "characterisation is believable, full stop. On balance, I can't recommend it. I'd give "
            "it a 5."
        ),
    ),
    (
        100602,
        0,
        (
            "I want my evening back. The soundtrack is intrusive, no question; the premise, "
            "however, is intricate. I'd find it hard to recommend to anyone but die-hard fans."
        ),
    ),
    (
        100197,
        0,
        (
            "It's nowhere near as original as Crimson Kingdom. Someone clearly fell in love with "
            "the synthesiser. Secret Garden is a shallow animated feature. Even die-hard fans of "
            "animated features should stay away."
        ),
    ),
    (
        202727,
        1,
        (
            "I'd heard mixed things about Frozen Gambit. At no point did I find it bland. The "
            "staging isn't flat in the slightest. Nobody could honestly call the one-liners lame."
        ),
    ),
    (
        201299,
        0,
        (
            "Nobody could honestly call the special effects spectacular. The pacing isn't "
            "propulsive in the slightest."
        ),
    ),
    (201470, 1, "It is not, as I'd been told, a headache. Worth every penny of the ticket price."),
    (
        201308,
        0,
        (
            "On paper, The Secret Machine is a fairly standard black comedy. The script is far from"
            " ingenious. I didn't love a single minute of it."
        ),
    ),
    (201348, 1, "There is nothing forgettable about the score. Go see it. You can thank me later."),
    (
        200928,
        0,
        (
            "And the climax! Satisfying. The second half is nothing short of confident. Still, the "
            "overall verdict is simple: uninspired."
        ),
    ),
    (
        201486,
        1,
        (
            "Full disclosure: I'm not a big buddy comedy person. The dialogue is stilted. Mateo "
            "Holmqvist looks lost as Nikolai. The soundtrack? Grating. None of that matters much; "
            "what matters is that it is thrilling."
        ),
    ),
    (
        201765,
        1,
        (
            "The direction is so heavy-handed that it becomes a distraction. I was struck by how "
            "murky the costumes are. Yasmin Ravenscroft sleepwalks through the role of Iris. "
            "Strangely, I walked out with a huge smile on my face."
        ),
    ),
    (
        201714,
        0,
        (
            "The villain's arc feels quite complex. Anselm Montague's direction is sloppy. The "
            "story is hollow at times, yet the humour is consistently sharp. The middle section is "
            "nimble and tight. Two hours I'll never get back."
        ),
    ),
    (
        202236,
        1,
        (
            "The green screen is painfully obvious in every outdoor scene. The CGI is rubbery, "
            "plain and simple. But none of that changes the verdict: remarkable. Taken as a whole, "
            "it works. 6 out of 10."
        ),
    ),
    (
        200704,
        1,
        (
            "Silent Horizon was the closing film at this year's Esker Falls Film Festival. I was "
            "ready to be restless, and I never was. Kenji Holmqvist gives the performance of his "
            "career as Ravi."
        ),
    ),
    (
        202353,
        1,
        (
            "I was sure I would dislike it. I didn't. Kenji Takahashi disappears completely into "
            "the role of Yusuf."
        ),
    ),
    (
        200411,
        0,
        (
            "I was sure I would enjoy it. I didn't. Harriet Mirza seems to be reading her lines off"
            " a cue card."
        ),
    ),
    (
        200825,
        0,
        (
            "Oh, it's a fine film, if you enjoy staring at a wall for a hundred and forty minutes. "
            "Clearly a masterpiece, which is why half the audience left early. I loathed the twist."
        ),
    ),
    (
        200286,
        0,
        (
            "The film is based on a novel by Thaddeus Takahashi. You can feel Mateo Varga straining"
            " for profundity in every shot. What a treat: ninety minutes of the same joke, told "
            "five different ways."
        ),
    ),
    (
        202391,
        0,
        (
            "The music does half the emotional work, and does it well. Special praise goes to the "
            "second half, which is perfect. Add it all up, though, and it's mediocre. I could feel "
            "my patience draining with every scene."
        ),
    ),
    (
        202414,
        0,
        (
            "I thought the finale was unforgettable. It's hard to overstate how lush the score is. "
            "It helps that the second half is so swift. Despite all that, I found it uninspired."
        ),
    ),
    (
        200523,
        0,
        (
            "Then there's the lead performance, which is patchy at best. Oh wonderful, the "
            "tortured-genius subplot again. How original. Better than The Astronomer's Apprentice, "
            "but that isn't saying much. Avoid."
        ),
    ),
    (
        202327,
        0,
        (
            "Better than Pale Promise, but that isn't saying much. Stay home and watch Pale Promise"
            " again instead. I'd forgotten most of it before I reached the car park. Life is too "
            "short for films like this. Rating: 3/10."
        ),
    ),
]


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _explain_mismatch(new_path: Path, old_path: Path, command: str) -> str:
    """Why two parquet files differ: content, or only the bytes (pyarrow version)."""
    import pyarrow
    import pyarrow.parquet as pq

    if pq.read_table(new_path).equals(pq.read_table(old_path)):
        return (
            f"{old_path.name}: same table but different bytes; the committed files were "
            f"written with pyarrow 26.0.1, this is pyarrow {pyarrow.__version__}"
        )
    return (
        f"{old_path.name} differs from a fresh `{command}` run; regenerate and commit, "
        "or fix the generator"
    )


@pytest.fixture(scope="module")
def gen():
    return _module("test_reviews_generate", REVIEWS / "generate.py")


@pytest.fixture(scope="module")
def stats():
    return _module("test_reviews_stats", REVIEWS / "stats.py")


@pytest.fixture(scope="module")
def committed():
    import pandas as pd

    return {s: pd.read_parquet(REVIEWS / f"{s}.parquet") for s in SPLITS}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Run the generator CLI into a temporary folder: (folder, seconds)."""
    out = tmp_path_factory.mktemp("reviews")
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REVIEWS / "generate.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out, time.perf_counter() - t0


@pytest.fixture(scope="module")
def fresh_data(fresh):
    import pandas as pd

    return {s: pd.read_parquet(fresh[0] / f"{s}.parquet") for s in SPLITS}


@pytest.fixture(scope="module")
def grammar(gen):
    return gen.Grammar(gen.DEFAULT_SEED)


# -- reproducibility ---------------------------------------------------------------------
def test_generator_reproduces_committed_files_byte_for_byte(fresh):
    out, _ = fresh
    for s in SPLITS:
        new, old = out / f"{s}.parquet", REVIEWS / f"{s}.parquet"
        assert new.read_bytes() == old.read_bytes(), _explain_mismatch(
            new, old, "python data/reviews/generate.py"
        )


def test_generator_is_fast_enough(fresh):
    assert fresh[1] < GENERATOR_BUDGET_S, (
        f"generator took {fresh[1]:.1f} s, budget {GENERATOR_BUDGET_S} s"
    )


# -- labels --------------------------------------------------------------------------------
def test_hand_labelled_tricky_reviews(fresh_data):
    assert len(HAND_LABELLED) >= 50
    rows = {}
    for s in SPLITS:
        df = fresh_data[s]
        rows.update(zip(df["id"].tolist(), zip(df["text"].tolist(), df["label"].tolist())))
    for rid, label, text in HAND_LABELLED:
        assert rid in rows, f"id {rid} missing from the generated corpus"
        got_text, got_label = rows[rid]
        assert got_text == text, (
            f"id {rid}: generator now writes {got_text!r}, hand-labelled text was {text!r}"
        )
        assert got_label == label, f"id {rid}: {text!r} is labelled {got_label}, by hand {label}"


def test_negation_frames_flip_the_surface_polarity(gen, grammar):
    """Every mirrored negation frame negates a word of the opposite polarity.

    "I wouldn't call the pacing sluggish" must carry stance +1 and a negative word. If
    the generator's negation handling broke (the x/s slots swapped, or the stance ignored),
    the surface polarity would agree with the stance and this fails.
    """
    import random

    frames = grammar.pools["negation_frames"]
    for stance in (+1, -1):
        for i, template in enumerate(frames.items):
            for k in range(3):
                R = gen.Review(
                    grammar, "train", random.Random(f"neg:{stance}:{i}:{k}"), int(stance > 0)
                )
                text = gen.polish(R.fill(template, {"_stance": stance}))
                surface = gen.surface_polarity(text)
                assert surface * stance < 0, (
                    f"stance {stance:+d} frame {template!r} rendered as {text!r} "
                    f"has surface polarity {surface}"
                )


def test_contrast_frames_end_on_the_stance(gen, grammar):
    """In "X is <against>, but Y is <stance>" the clause after the connective carries the stance."""
    import random

    split_re = re.compile(r"\b(?:but|yet|though|whereas|however|on the other hand)\b|;")
    for stance in (+1, -1):
        for i, template in enumerate(grammar.pools["contrast_frames"].items):
            R = gen.Review(grammar, "train", random.Random(f"con:{stance}:{i}"), int(stance > 0))
            text = R.fill(template, {"_stance": stance})
            if text.startswith(("While ", "Although ")):
                head, tail = text.split(", ", 1)
            else:
                parts = split_re.split(text)
                head, tail = parts[0], parts[-1]
            assert gen.surface_polarity(head) * stance < 0, (template, text)
            assert gen.surface_polarity(tail) * stance > 0, (template, text)


def test_every_review_ends_on_its_verdict_and_uses_heldout_material(gen):
    corpus = gen.generate_corpus(sizes={"train": 600, "validation": 300, "test": 300})
    for split, rows in corpus.items():
        for r in rows:
            if split != "train":
                assert r["held"], (
                    f"{split} review {r['id']} uses no {split}-only material: {r['text']!r}"
                )
            else:
                assert not r["held"], f"train review {r['id']} uses held-out material {r['held']}"


# -- structure -----------------------------------------------------------------------------
def test_columns_types_and_sizes(committed):
    for s, n in (("train", 18000), ("validation", 3000), ("test", 3000)):
        df = committed[s]
        assert list(df.columns) == ["id", "text", "label", "rating", "hard", "phenomena"]
        assert len(df) == n
        assert str(df["id"].dtype) == "int64" and str(df["label"].dtype) == "int64"
        assert str(df["rating"].dtype) == "int64" and str(df["hard"].dtype) == "bool"
        assert df["id"].is_unique
    ids = [set(committed[s]["id"]) for s in SPLITS]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])


def test_sentences_per_review_between_1_and_8(committed, stats):
    for s in SPLITS:
        counts = [len(stats.sentences(t)) for t in committed[s]["text"]]
        assert min(counts) >= 1 and max(counts) <= 8, (s, min(counts), max(counts))


def test_label_balance(committed):
    for s in SPLITS:
        share = committed[s]["label"].mean()
        assert abs(share - 0.5) <= 0.01, f"{s}: positive share {share:.3f}"


def test_ratings_consistent_with_labels(committed):
    rating_re = re.compile(r"\b(10|[1-9])(?:/10| out of 10\b)|\bI'd give it an? (10|[1-9])\b")
    for s in SPLITS:
        df = committed[s]
        pos, neg = df[df.label == 1], df[df.label == 0]
        assert pos.rating.between(6, 10).all() and neg.rating.between(1, 5).all(), s
        middle = df[df.rating.isin([5, 6])]
        assert middle.phenomena.str.contains("mixed").all(), (
            "ratings 5/6 only for mixed reviews with a verdict"
        )
        assert set(df[df.label == 1].rating) >= {6, 7, 8, 9, 10} and set(
            df[df.label == 0].rating
        ) >= {1, 2, 3, 4, 5}
        for text, rating in zip(df.text, df.rating):
            for m in rating_re.finditer(text):
                written = int(m.group(1) or m.group(2))
                assert written == rating, (
                    f"{s}: text says {written}, rating column {rating}: {text!r}"
                )


def test_phenomena_tags_come_from_the_vocabulary(committed, gen):
    for s in SPLITS:
        for tags in committed[s]["phenomena"]:
            parts = tags.split(",") if tags else []
            assert parts == sorted(parts) and set(parts) <= set(gen.PHENOMENA), tags


def test_hard_flag_matches_surface_polarity(committed, gen):
    for s in SPLITS:
        df = committed[s]
        for text, label, hard in zip(df.text, df.label, df.hard):
            sp = gen.surface_polarity(text)
            assert hard == ((label == 1 and sp < 0) or (label == 0 and sp > 0)), (text, label, sp)


def test_hard_share(committed):
    shares = {s: committed[s]["hard"].mean() for s in SPLITS}
    assert shares["test"] >= 0.15, shares
    assert max(shares.values()) - min(shares.values()) <= 0.05, shares


def test_splits_are_disjoint(committed):
    texts = [set(committed[s]["text"]) for s in SPLITS]
    assert sum(map(len, texts)) == sum(len(committed[s]) for s in SPLITS), (
        "duplicate text inside a split"
    )
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])


def test_size_limits():
    reviews = sum(p.stat().st_size for p in REVIEWS.glob("*.parquet"))
    assert reviews <= 8 * 2**20, f"reviews parquet files take {reviews / 2**20:.2f} MiB (limit 8)"
    data = sum(
        p.stat().st_size
        for p in (ROOT / "data").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert data <= 10 * 2**20, f"data/ takes {data / 2**20:.2f} MiB (limit 10)"


# -- held-out sub-grammars -----------------------------------------------------------------
def _literal_fragments(template: str, min_words: int = 4):
    for chunk in re.split(r"\{[^}]*\}", template):
        chunk = chunk.strip(" ,.;:!?'")
        if len(chunk.split()) >= min_words:
            yield chunk


def test_heldout_titles_and_names_never_in_train(fresh_data, grammar):
    train = "\n".join(fresh_data["train"]["text"])
    test = "\n".join(fresh_data["test"]["text"])
    titles = grammar.pools["titles"].heldout("test") + grammar.pools["titles"].heldout("validation")
    assert len(titles) >= 100
    for t in titles:
        assert t not in train, f"held-out title {t!r} occurs in train"
    used = sum(t in test for t in grammar.pools["titles"].heldout("test"))
    assert used >= 0.8 * len(grammar.pools["titles"].heldout("test")), (
        "test uses few of its held-out titles"
    )
    train_words = set(re.findall(r"[A-Za-z]+", train))
    for pool in ("first_f", "first_m", "last"):
        for split in ("validation", "test"):
            for name in grammar.pools[pool].heldout(split):
                assert name not in train_words, f"held-out name {name!r} occurs in train"


def test_heldout_templates_never_in_train(fresh_data, grammar, gen):
    """Distinctive phrases of test-only templates and families never occur in train."""
    lex = gen.LEX

    def texts(entries):
        for e in entries:
            yield e[0] if isinstance(e, tuple) else e

    heldout, other = [], []
    for name, pool in grammar.pools.items():
        if name in ("titles", "first_f", "first_m", "last", "genres", "festival_places"):
            continue
        items = pool.items
        if name == "opening_families":
            items = [lex.OPENINGS[f] for f in items]
        elif name == "verdict_families":
            items = [[t for ts in lex.VERDICTS[f].values() for t in ts] for f in items]
        for item, kind in zip(items, pool.kinds):
            strings = list(texts(item if isinstance(item, list) else [item]))
            strings = [s if isinstance(s, str) else " ".join(s) for s in strings]
            (heldout if kind == "test" else other).extend((s, kind) for s in strings)
    other_text = "\n".join(s for s, _ in other).lower()
    train = "\n".join(fresh_data["train"]["text"]).lower()
    test = "\n".join(fresh_data["test"]["text"]).lower()
    checked = seen_in_test = 0
    for s, _ in heldout:
        for frag in _literal_fragments(s):
            frag = frag.lower()
            if frag in other_text:
                continue  # not distinctive: a shared template says the same words
            checked += 1
            assert frag not in train, f"held-out phrase {frag!r} (from {s!r}) occurs in train"
            seen_in_test += frag in test
    assert checked >= 40, f"only {checked} distinctive held-out phrases to check"
    assert seen_in_test >= 0.8 * checked, (
        f"only {seen_in_test}/{checked} held-out phrases occur in test"
    )


def test_test_overlaps_train_less_than_a_random_split(committed, stats):
    ov = stats.overlap_report(committed["train"], committed["test"])
    test, rand = ov["test"]["ngram"], ov["random_train_split"]["ngram"]
    assert test < rand - 0.10, f"test 8-gram overlap {test:.3f} vs random train split {rand:.3f}"


# -- the baseline ----------------------------------------------------------------------------
def test_tfidf_baseline_fails_on_the_hard_subset(committed, stats):
    res = stats.tfidf_baseline(committed["train"], committed["test"])
    assert 0.75 <= res["overall"] <= 0.97, res
    assert res["hard"] <= res["non_hard"] - 0.10, (
        f"TF-IDF baseline: hard {res['hard']:.3f} vs non-hard {res['non_hard']:.3f}; "
        "the hard subset "
        "should be at least 10 points harder"
    )
