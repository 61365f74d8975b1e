#!/usr/bin/env python
"""Generate the offline movie-review corpus: data/reviews/{train,validation,test}.parquet.

Usage: ``python data/reviews/generate.py [--out DIR] [--seed N]``

How a review is made (details in README.md):
1. the label is drawn first (exactly balanced per split), then a *plan* (straight,
   negation, negation-heavy, mixed, concession, turn, comparison, short, sarcasm);
2. the plan asks sentence builders for sentences with a *stance* (+1 / -1 / 0); every
   builder draws its template from a pool in ``lexicon.py`` and fills its slots
   (aspects, adjectives, names, titles, ...) with grammatical agreement;
3. the label is the verdict: the last evaluative sentence always carries the label's
   stance, opposite-stance sentences only appear before it;
4. ``hard`` is measured, not planned: the review's surface polarity (positive-lexicon
   words minus negative-lexicon words, ignoring negation and context) points the wrong way.

Held-out sub-grammars: every pool's items are split once (seeded) into shared,
validation-only and test-only items; so are film titles, first and last names, and
aspect-noun x adjective combinations. Train uses only shared items, and every validation
/ test review contains at least one item held out for its split.

Everything is drawn from ``random.Random`` instances seeded from ``--seed`` (string seeds,
no ``hash()``), so the same seed writes byte-identical parquet files.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import re
import sys
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SEED = 2024
SPLITS = ("train", "validation", "test")
SPLIT_SIZES = {"train": 18000, "validation": 3000, "test": 3000}
ID_OFFSETS = {"train": 0, "validation": 100_000, "test": 200_000}
PHENOMENA = (
    "comparison",
    "concession",
    "contrast",
    "informal",
    "mixed",
    "negation",
    "rating",
    "sarcasm",
    "typo",
)

TEST_SHARE = 0.18  # share of each pool's items held out for test only
VAL_SHARE = 0.10  # ... and for validation only
HOLDOUT_BOOST = 0.25  # in validation/test, chance that a pick comes from the split-only items
COMBO_TEST, COMBO_VAL = 0.15, 0.10  # aspect-noun x adjective combinations held out
N_TITLES = 900
TYPO_P = 0.06
INFORMAL_P = 0.06
RATING_LINE_P = 0.15


def _load_lexicon():
    spec = importlib.util.spec_from_file_location("course_reviews_lexicon", HERE / "lexicon.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


LEX = _load_lexicon()
ASPECT_KEYS = tuple(LEX.ASPECTS)
TOKEN_RE = re.compile(r"[a-z]+(?:[-'][a-z]+)*")
SLOT_RE = re.compile(r"\{([A-Za-z_0-9]+)(?::([a-z_]+))?\}")
ASP_SLOTS = {
    "asp",
    "be",
    "was",
    "isnt",
    "wasnt",
    "has",
    "does",
    "it",
    "which",
    "padj",
    "nadj",
    "padj_b",
    "nadj_b",
    "v",
}


# ---------------------------------------------------------------------------------------
# Sentiment lexicon used for the *surface* polarity (the hard flag)
# ---------------------------------------------------------------------------------------
def _build_surface_lexicon():
    pos, neg = set(), set()
    for a in LEX.ASPECTS.values():
        pos.update(a["pos"])
        neg.update(a["neg"])
    pos.update(
        LEX.GEN_POS
        + LEX.GEN_POS_MILD
        + LEX.GEN_POS_MOST
        + LEX.SCENE_POS
        + LEX.CMP_POS
        + LEX.P_NOUN
        + LEX.P_FEEL
        + LEX.ADV_POS_ONLY
        + LEX.POS_EXTRA
    )
    neg.update(
        LEX.GEN_NEG
        + LEX.GEN_NEG_MILD
        + LEX.GEN_NEG_MOST
        + LEX.SCENE_NEG
        + LEX.START_ADJ
        + LEX.N_NOUN
        + LEX.N_FEEL
        + LEX.ADV_NEG_ONLY
        + LEX.NEG_EXTRA
    )
    for verbs, target in ((LEX.P_VERB, pos), (LEX.N_VERB, neg)):
        for forms in verbs:
            target.update(forms)
    both = sorted(pos & neg)
    if both:
        raise ValueError(f"words listed as both positive and negative: {both}")
    return frozenset(pos), frozenset(neg)


POS_WORDS, NEG_WORDS = _build_surface_lexicon()


def surface_polarity(text: str) -> int:
    """Positive-lexicon words minus negative-lexicon words (no negation, no context)."""
    score = 0
    for tok in TOKEN_RE.findall(text.lower()):
        if tok in POS_WORDS:
            score += 1
        elif tok in NEG_WORDS:
            score -= 1
    return score


# ---------------------------------------------------------------------------------------
# Small language helpers
# ---------------------------------------------------------------------------------------
_AN_EXCEPT = ("uni", "use", "usu", "one", "once", "eu", "ufo", "utopia")
_AN_UNI_OK = ("unimp", "uninsp", "uninten", "uninter", "uninv", "unint")


def needs_an(word: str) -> bool:
    """True if the indefinite article before ``word`` is "an"."""
    w = word.lower()
    if not w:
        return False
    if w[0].isdigit():
        return w.startswith("8") or w in ("11", "18")
    if w.startswith(("honest", "hour", "honour", "heir")):
        return True
    if w[0] not in "aeiou":
        return False
    if w.startswith(_AN_UNI_OK):
        return True
    return not w.startswith(_AN_EXCEPT)


_ART_RE = re.compile(r"\b([Aa])(n?) ([A-Za-z0-9][\w'-]*)")


def fix_articles(text: str) -> str:
    """Turn "a"/"an" into the right form for the next word."""
    return _ART_RE.sub(
        lambda m: f"{m.group(1)}{'n' if needs_an(m.group(3)) else ''} {m.group(3)}", text
    )


def third_person(verb_phrase: str) -> str:
    """Conjugate the first word of a base-form verb phrase for he/she/it."""
    first, _, rest = verb_phrase.partition(" ")
    irregular = {"have": "has", "be": "is", "do": "does", "go": "goes"}
    if first in ("must", "can", "will", "should", "may", "might"):
        conj = first
    elif first in irregular:
        conj = irregular[first]
    elif first.endswith(("s", "sh", "ch", "x", "z", "o")):
        conj = first + "es"
    elif first.endswith("y") and first[-2:-1] not in ("a", "e", "i", "o", "u"):
        conj = first[:-1] + "ies"
    else:
        conj = first + "s"
    return conj + (" " + rest if rest else "")


def polish(sentence: str) -> str:
    """Fix spacing, articles and the first capital of one sentence."""
    s = re.sub(r" {2,}", " ", sentence).strip()
    s = re.sub(r" ([,.;:!?])", r"\1", s)
    s = fix_articles(s)
    return s[:1].upper() + s[1:]


def _split_of(name: str, n: int, seed: int) -> list:
    """Assign each of ``n`` pool items to "shared", "validation" or "test" (seeded)."""
    kinds = ["shared"] * n
    if n < 4:
        return kinds
    k_test = max(1, round(n * TEST_SHARE))
    k_val = max(1, round(n * VAL_SHARE)) if n >= 8 else 0
    order = list(range(n))
    random.Random(f"holdout:{seed}:{name}").shuffle(order)
    for i in order[:k_test]:
        kinds[i] = "test"
    for i in order[k_test : k_test + k_val]:
        kinds[i] = "validation"
    return kinds


def combo_split(noun: str, adj: str, seed: int) -> str:
    """Which split an aspect-noun x adjective combination belongs to."""
    x = zlib.crc32(f"{seed}|{noun}|{adj}".encode()) / 2**32
    if x < COMBO_TEST:
        return "test"
    if x < COMBO_TEST + COMBO_VAL:
        return "validation"
    return "shared"


def make_titles(seed: int) -> list:
    """Invented film titles, none a substring of another (seeded order)."""
    cands = set()
    for a in LEX.TITLE_ADJ:
        for n in LEX.TITLE_NOUN:
            cands.add(f"The {a} {n}")
            cands.add(f"{a} {n}")
    for o in LEX.TITLE_OWNER:
        for r in LEX.TITLE_RELATION:
            cands.add(f"The {o}'s {r}")
        cands.add(f"The Last {o}")
    for p in LEX.TITLE_PLACE:
        for pat in LEX.TITLE_PLACE_PATTERNS:
            cands.add(pat.format(p=p))
    for nm in LEX.TITLE_NAMES:
        for pat in LEX.TITLE_NAME_PATTERNS:
            cands.add(pat.format(n=nm))
    for n1 in LEX.TITLE_NOUN:
        for n2 in LEX.TITLE_NOUN:
            if n1 < n2:
                cands.add(f"{n1} and {n2}")
    cands = sorted(cands)
    random.Random(f"titles:{seed}").shuffle(cands)
    chosen = []
    for t in cands:
        if any(t in c or c in t for c in chosen):
            continue
        chosen.append(t)
        if len(chosen) == N_TITLES:
            break
    return chosen


# ---------------------------------------------------------------------------------------
# Pools with held-out items
# ---------------------------------------------------------------------------------------
POOL_TAGS = {
    "negation_frames": "negation",
    "negated_oneway": "negation",
    "contrast_frames": "contrast",
    "contrast_film": "contrast",
    "concession": "concession",
    "concession_frames": "concession",
    "turn": "contrast",
    "turn_frames": "contrast",
    "comparison": "comparison",
    "sarcasm": "sarcasm",
    "rating_lines": "rating",
}
# mirrored slots: "x..." = polarity opposite to the sentence's stance, "s..." = same
MIRROR = {
    "xadj": ("nadj", "padj"),
    "sadj": ("padj", "nadj"),
    "xadj2": ("nadj2", "padj2"),
    "sadj2": ("padj2", "nadj2"),
    "xg": ("gneg", "gpos"),
    "sg": ("gpos", "gneg"),
    "xg_b": ("gneg_b", "gpos_b"),
    "xscene": ("sneg", "spos"),
    "xfeel": ("nfeel", "pfeel"),
    "xnoun": ("nnoun", "pnoun"),
    "xverb": ("nverbc", "pverbc"),
}


class Pool:
    """A list of items plus its seeded shared / validation-only / test-only assignment."""

    def __init__(self, name: str, items: list, seed: int):
        self.name = name
        self.items = list(items)
        self.kinds = _split_of(name, len(self.items), seed)
        self.shared = [i for i, k in enumerate(self.kinds) if k == "shared"]
        self.only = {s: [i for i, k in enumerate(self.kinds) if k == s] for s in SPLITS}

    def heldout(self, split: str) -> list:
        """Items that exist only in ``split``."""
        return [self.items[i] for i in self.only[split]]


class Grammar:
    """All pools of one seed."""

    def __init__(self, seed: int = DEFAULT_SEED):
        self.seed = seed
        self.titles = make_titles(seed)
        pools = {
            "titles": self.titles,
            "first_f": LEX.FIRST_F,
            "first_m": LEX.FIRST_M,
            "last": LEX.LAST,
            "genres": LEX.GENRES,
            "occasions": LEX.OCCASIONS,
            "companions": LEX.COMPANIONS,
            "festival_places": LEX.FESTIVAL_PLACES,
            "protagonists": LEX.PROTAGONISTS,
            "goals": LEX.GOALS,
            "settings": LEX.SETTINGS,
            "encounters": LEX.ENCOUNTERS,
            "opening_families": sorted(LEX.OPENINGS),
            "verdict_families": sorted(LEX.VERDICTS),
            "summary": LEX.SUMMARY,
            "summary_more": LEX.SUMMARY_MORE,
            "sarcasm": LEX.SARCASM,
            "negation_frames": LEX.NEGATION_FRAMES,
            "contrast_frames": LEX.CONTRAST_FRAMES,
            "contrast_film": LEX.CONTRAST_FILM,
            "turn_frames": LEX.TURN_FRAMES,
            "concession_frames": LEX.CONCESSION_FRAMES,
        }
        for name, table in (
            ("aspect_eval", LEX.ASPECT_EVAL),
            ("negated_oneway", LEX.NEGATED_ONEWAY),
            ("concession", LEX.CONCESSION),
            ("turn", LEX.TURN),
            ("implicit", LEX.IMPLICIT),
            ("actor", LEX.ACTOR),
            ("general", LEX.GENERAL),
            ("minor", LEX.MINOR),
            ("comparison", LEX.COMPARISON),
            ("overall", LEX.OVERALL),
            ("rating_lines", LEX.RATING_LINES),
        ):
            for stance in (+1, -1):
                pools[f"{name}{'+' if stance > 0 else '-'}"] = table[stance]
        for key, table in LEX.ASPECT_PHRASES.items():
            for stance in (+1, -1):
                pools[f"phrases:{key}{'+' if stance > 0 else '-'}"] = table[stance]
        self.pools = {name: Pool(name, items, seed) for name, items in pools.items()}
        self._combo_cache = {}

    def adjectives(self, noun: str, key: str, pol: str, split: str):
        """(shared, split-only) adjectives allowed for this aspect noun in ``split``."""
        ck = (noun, pol, split)
        if ck not in self._combo_cache:
            shared, only = [], []
            for adj in LEX.ASPECTS[key][pol]:
                kind = combo_split(noun, adj, self.seed)
                if kind == "shared":
                    shared.append(adj)
                elif kind == split:
                    only.append(adj)
            self._combo_cache[ck] = (shared, only)
        return self._combo_cache[ck]

    def heldout_report(self) -> dict:
        """{split: {pool: [held-out items]}} plus held-out aspect combinations."""
        rep = {}
        for split in ("validation", "test"):
            rep[split] = {
                name: p.heldout(split) for name, p in self.pools.items() if p.heldout(split)
            }
            combos = []
            for a in LEX.ASPECTS.values():
                for noun, _num in a["nouns"]:
                    for pol in ("pos", "neg"):
                        combos += [
                            (noun, adj)
                            for adj in a[pol]
                            if combo_split(noun, adj, self.seed) == split
                        ]
            rep[split]["aspect_combos"] = combos
        return rep


# ---------------------------------------------------------------------------------------
# One review
# ---------------------------------------------------------------------------------------
def _item(entry):
    """Template entries are "text" or ("text", "tag,tag")."""
    if isinstance(entry, tuple):
        return entry[0], entry[1].split(",")
    return entry, ()


class Review:
    """State while one review is being written: entities, aspects used, tags, held-out use."""

    def __init__(self, g: Grammar, split: str, rng: random.Random, label: int):
        self.g, self.split, self.rng, self.label = g, split, rng, label
        self.tags = set()
        self.held = []
        self.templates_used = set()
        self.aspects_used = []
        self.film = self.pick("titles")
        self.genre = self.pick("genres")
        self.director = self.person()[0]
        self.actor, self.gender = self.person()
        self.actor2, self.gender2 = self.person()
        while self.actor2 == self.actor:
            self.actor2, self.gender2 = self.person()
        self.role = self.role_name(self.gender)
        self.role2 = self.role_name(self.gender2)
        self._film2 = None
        self._prot = None
        self.rating = None

    # -- random helpers -----------------------------------------------------------------
    def p(self, prob: float) -> bool:
        return self.rng.random() < prob

    def choice(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def pick(self, pool_name: str):
        """Draw from a pool, respecting (and, outside train, favouring) held-out items."""
        pool = self.g.pools[pool_name]
        only = pool.only[self.split] if self.split != "train" else []
        if only and self.rng.random() < HOLDOUT_BOOST:
            i = self.choice(only)
            self.held.append((pool_name, i))
        else:
            i = self.choice(pool.shared)
        return pool.items[i]

    def pick_template(self, pool_name: str) -> str:
        """A template from ``pool_name``, not one this review has used already."""
        for _ in range(8):
            n_held = len(self.held)
            entry = self.pick(pool_name)
            if (pool_name, entry) not in self.templates_used:
                break
            del self.held[n_held:]
        self.templates_used.add((pool_name, entry))
        text, tags = _item(entry)
        base = pool_name.split(":")[0].rstrip("+-")
        if base in POOL_TAGS:
            self.tags.add(POOL_TAGS[base])
        self.tags.update(tags)
        return text

    # -- entities -----------------------------------------------------------------------
    def person(self):
        gender = "f" if self.p(0.5) else "m"
        first = self.pick("first_f" if gender == "f" else "first_m")
        return f"{first} {self.pick('last')}", gender

    def role_name(self, gender: str) -> str:
        form = self.rng.randrange(3)
        first = self.pick("first_f" if gender == "f" else "first_m")
        if form == 0:
            return first
        if form == 1:
            return f"{self.choice(LEX.ROLE_TITLES)} {self.pick('last')}"
        return f"{first} {self.pick('last')}"

    @property
    def film2(self) -> str:
        if self._film2 is None:
            t = self.pick("titles")
            while t == self.film:
                t = self.pick("titles")
            self._film2 = t
        return self._film2

    def protagonist(self, singular_gender=None):
        """(noun phrase, pronoun) of the plot's protagonist, fixed for the review."""
        if singular_gender is not None:
            want = "she" if singular_gender == "f" else "he"
            while True:
                text, pro = self.pick("protagonists").split("|")
                if pro == want:
                    return text, pro
        if self._prot is None:
            self._prot = tuple(self.pick("protagonists").split("|"))
        return self._prot

    def goal(self, pronoun: str) -> str:
        while True:
            g = self.pick("goals")
            plural_only = g.endswith("|pl")
            g = g.replace("|pl", "")
            if plural_only and pronoun != "they":
                continue
            break
        pp = {
            "she": ("she", "her", "her"),
            "he": ("he", "him", "his"),
            "they": ("they", "them", "their"),
        }[pronoun]
        g = g.replace("{pp_sub}", pp[0]).replace("{pp_obj}", pp[1]).replace("{pp_pos}", pp[2])
        return g if pronoun == "they" else third_person(g)

    # -- aspects ------------------------------------------------------------------------
    def new_aspect(self):
        free = [k for k in ASPECT_KEYS if k not in self.aspects_used] or list(ASPECT_KEYS)
        key = self.choice(free)
        self.aspects_used.append(key)
        noun, num = self.choice(LEX.ASPECTS[key]["nouns"])
        return {
            "key": key,
            "noun": noun,
            "plural": num.startswith("p"),
            "human": num.endswith("h"),
            "adjs": [],
        }

    def aspect_adj(self, asp: dict, pol: str) -> str:
        shared, only = self.g.adjectives(asp["noun"], asp["key"], pol, self.split)
        if only and self.split != "train" and self.rng.random() < HOLDOUT_BOOST:
            adj = self.choice(only)
            self.held.append(("aspect_combos", f"{asp['noun']}|{adj}"))
        else:
            free = [a for a in shared if a not in asp["adjs"]] or shared
            adj = self.choice(free)
        asp["adjs"].append(adj)
        return adj

    # -- slot filling -------------------------------------------------------------------
    def fill(self, template: str, b=None) -> str:
        b = {} if b is None else b

        def repl(m):
            name, arg = m.group(1), m.group(2)
            val = self.slot(name.lower(), arg, b)
            if "{" in val:
                val = self.fill(val, b)
            return val[:1].upper() + val[1:] if name[0].isupper() else val

        return SLOT_RE.sub(repl, template)

    def _distinct(self, b, key, seq):
        used = b.setdefault("_words", set())
        free = [w for w in seq if w not in used] or list(seq)
        w = self.choice(free)
        used.add(w)
        return w

    def slot(self, name: str, arg, b: dict) -> str:
        if name in MIRROR:
            name = MIRROR[name][0 if b["_stance"] > 0 else 1]
        idx = 1
        base = name
        if name not in ASP_SLOTS and name.endswith("2") and name[:-1] in ASP_SLOTS:
            base, idx = name[:-1], 2
        if base in ASP_SLOTS:
            if idx not in b:
                b[idx] = self.new_aspect()
            a = b[idx]
            pl = a["plural"]
            simple = {
                "asp": a["noun"],
                "be": "are" if pl else "is",
                "was": "were" if pl else "was",
                "isnt": "aren't" if pl else "isn't",
                "wasnt": "weren't" if pl else "wasn't",
                "has": "have" if pl else "has",
                "does": "do" if pl else "does",
                "it": "they" if pl else "it",
                "which": "who" if a["human"] else "which",
            }
            if base in simple:
                return simple[base]
            if base == "v":
                return arg if pl else third_person(arg)
            return self.aspect_adj(a, "pos" if base.startswith("p") else "neg")
        L = LEX
        if name == "film":
            return self.film
        if name == "film2":
            return self.film2
        if name == "tf":
            return self.choice(("the film", "the movie", "this film", "this movie"))
        if name == "genre":
            return self.genre[0]
        if name == "genres":
            return self.genre[1]
        if name == "genre_other":
            g = self.pick("genres")
            while g == self.genre:
                g = self.pick("genres")
            return g[0]
        if name == "director":
            return self.director
        swap = b.get("_swap", False)
        if name in ("actor", "actor2"):
            return self.actor2 if (name == "actor") == swap else self.actor
        if name in ("role", "role2"):
            return self.role2 if (name == "role") == swap else self.role
        if name == "person":
            return self.person()[0]
        if name in ("ap_sub", "ap_obj", "ap_pos", "ap_subis"):
            f = (self.gender2 if swap else self.gender) == "f"
            return {
                "ap_sub": "she" if f else "he",
                "ap_obj": "her" if f else "him",
                "ap_pos": "her" if f else "his",
                "ap_subis": "she's" if f else "he's",
            }[name]
        if name == "occasion":
            return self.pick("occasions")
        if name == "festival":
            return f"{self.pick('festival_places')} Film Festival"
        if name == "companion":
            return self.pick("companions")
        if name == "n_minutes":
            return self.choice(L.N_MINUTES)
        if name == "nth":
            return self.choice(L.NTH)
        if name == "setting":
            return self.pick("settings")
        if name == "encounter":
            return self.pick("encounters")
        if name == "protagonist":
            return self.protagonist()[0]
        if name in ("goal", "goal_v"):
            return self.goal(self.protagonist()[1])
        if name == "pp_sub":
            return self.protagonist()[1]
        if name == "meet":
            return "meet" if self.protagonist()[1] == "they" else "meets"
        if name == "protagonist_s":
            text, pro = self.protagonist(singular_gender=self.gender)
            b["_prot_s"] = pro
            return text
        if name == "goal_s":
            return self.goal(b.get("_prot_s", "she" if self.gender == "f" else "he"))
        if name == "r":
            return str(self.rating)
        words = {
            "gpos": L.GEN_POS,
            "gneg": L.GEN_NEG,
            "gpos_b": L.GEN_POS,
            "gneg_b": L.GEN_NEG,
            "gpos_c": L.GEN_POS,
            "gneg_c": L.GEN_NEG,
            "gpos_mild": L.GEN_POS_MILD,
            "gneg_mild": L.GEN_NEG_MILD,
            "gpos_most": L.GEN_POS_MOST,
            "gneg_most": L.GEN_NEG_MOST,
            "spos": L.SCENE_POS,
            "sneg": L.SCENE_NEG,
            "cmppos": L.CMP_POS,
            "chem": L.CHEMISTRY,
            "startadj": L.START_ADJ,
            "pnoun": L.P_NOUN,
            "nnoun": L.N_NOUN,
            "nint": L.NOUN_INTENS,
            "pfeel": L.P_FEEL,
            "nfeel": L.N_FEEL,
            "advp": L.ADV_POS_ONLY,
            "advn": L.ADV_NEG_ONLY,
            "advv": L.ADV_VERB,
            "apos": L.ASPECTS["acting"]["pos"],
            "aneg": L.ASPECTS["acting"]["neg"],
            "dpos": L.ASPECTS["direction"]["pos"],
            "dneg": L.ASPECTS["direction"]["neg"],
        }
        if name in words:
            return self._distinct(b, name, words[name])
        if name == "adv":
            return self.choice(L.ADV) if self.p(0.55) else ""
        verbs = {
            "pverb": (L.P_VERB, 0),
            "pverbed": (L.P_VERB, 1),
            "pverbing": (L.P_VERB_CORE, 2),
            "pverbc": (L.P_VERB_CORE, 0),
            "pverbced": (L.P_VERB_CORE, 1),
            "nverb": (L.N_VERB, 0),
            "nverbed": (L.N_VERB, 1),
            "nverbc": (L.N_VERB_CORE, 0),
            "nverbced": (L.N_VERB_CORE, 1),
        }
        if name in verbs:
            table, form = verbs[name]
            return self.choice(table)[form]
        raise KeyError(f"unknown template slot {{{name}}}")

    # -- sentence builders: each returns (text, stance) ----------------------------------
    def sent(self, pool_name: str, stance: int, swap: bool = False):
        """Fill a template from ``pool_name``; ``swap`` talks about the second actor
        (so that one actor is not both praised and panned in the same review)."""
        return self.fill(self.pick_template(pool_name), {"_swap": swap, "_stance": stance}), stance

    @staticmethod
    def _sign(stance: int) -> str:
        return "+" if stance > 0 else "-"

    def opening(self):
        fam = self.pick("opening_families")
        return self.fill(self.choice(LEX.OPENINGS[fam]), {"_stance": 0}), 0

    def summary(self):
        """A neutral plot sentence; a follow-up only once a protagonist has been introduced."""
        if self._prot is not None:
            return self.sent("summary_more", 0)
        return self.sent("summary", 0)

    def judgement(self, stance: int, lexical: bool = False):
        """An evaluative sentence. Against the review's verdict only aspect-level ones
        (an aspect, a performance) are used: "the score is awful" can sit in a positive
        review, "I hated it" cannot."""
        against = stance != (1 if self.label else -1)
        if against:
            kinds = (("aspect", 60), ("phrase", 25), ("actor", 15))
        elif lexical:
            kinds = (("aspect", 60), ("general", 20), ("actor", 20))
        else:
            kinds = (
                ("aspect", 48),
                ("phrase", 14),
                ("general", 18),
                ("actor", 10),
                ("implicit", 10),
            )
        kind = self.rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        s = self._sign(stance)
        if kind == "phrase":
            key = self.new_aspect()["key"]
            return self.sent(f"phrases:{key}{s}", stance, swap=against)
        name = {
            "aspect": "aspect_eval",
            "general": "general",
            "actor": "actor",
            "implicit": "implicit",
        }[kind]
        return self.sent(f"{name}{s}", stance, swap=against)

    def implicit(self, stance: int):
        return self.sent(f"implicit{self._sign(stance)}", stance)

    def negated(self, stance: int, p_mirrored: float = 0.7):
        if self.p(p_mirrored):
            return self.sent("negation_frames", stance)
        return self.sent(f"negated_oneway{self._sign(stance)}", stance)

    def contrast(self, stance: int):
        """Opposite clause first, then the stance (film level only with the verdict)."""
        self.tags.add("mixed")  # one sentence, judgements of both polarities
        if stance == (1 if self.label else -1) and self.p(0.25):
            return self.sent("contrast_film", stance)
        return self.sent("contrast_frames", stance)

    def concession(self, stance: int):
        if self.p(0.4):
            return self.sent("concession_frames", stance)
        return self.sent(f"concession{self._sign(stance)}", stance)

    def turn(self, stance: int, p_mirrored: float = 0.8):
        if self.p(p_mirrored):
            return self.sent("turn_frames", stance)
        return self.sent(f"turn{self._sign(stance)}", stance)

    def minor(self, stance: int):
        return self.sent(f"minor{self._sign(stance)}", stance)

    def comparison(self, stance: int):
        return self.sent(f"comparison{self._sign(stance)}", stance)

    def sarcasm(self):
        return self.sent("sarcasm", -1)

    def overall(self, stance: int):
        return self.sent(f"overall{self._sign(stance)}", stance)

    def verdict(self, stance: int):
        strength = "s" if self.rating >= 8 or self.rating <= 3 else "m"
        fam = self.pick("verdict_families")
        return self.fill(
            self.choice(LEX.VERDICTS[fam][self._sign(stance) + strength]), {"_stance": stance}
        ), stance

    def rating_line(self, stance: int):
        return self.sent(f"rating_lines{self._sign(stance)}", stance)


# ---------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------
PLAN_WEIGHTS = {
    1: (
        ("straight", 39),
        ("negation", 10),
        ("neg_heavy", 6),
        ("mixed", 11),
        ("concession", 9),
        ("turn", 8),
        ("comparison", 9),
        ("short", 8),
    ),
    0: (
        ("straight", 36),
        ("negation", 10),
        ("neg_heavy", 6),
        ("mixed", 11),
        ("concession", 9),
        ("turn", 8),
        ("comparison", 8),
        ("short", 7),
        ("sarcasm", 5),
    ),
}


def _choose_rating(R: Review, plan: str) -> int:
    if plan in ("mixed", "turn"):
        return R.choice((6, 7, 7, 8)) if R.label else R.choice((3, 4, 4, 5))
    return R.choice((7, 8, 8, 9, 9, 10)) if R.label else R.choice((1, 2, 2, 3, 3, 4))


def _intro(R: Review, p_open: float, p_summary: float) -> list:
    out = []
    if R.p(p_open):
        out.append(R.opening())
    if R.p(p_summary):
        out.append(R.summary())
        if R._prot is not None and R.p(0.3):
            out.append(R.summary())
    return out


def plan_straight(R, L):
    out = _intro(R, 0.5, 0.45)
    body = [R.judgement(L) for _ in range(R.choice((1, 2, 2, 3, 3, 4, 4)))]
    if R.p(0.15):
        body.insert(R.rng.randrange(len(body)), R.minor(-L))
    out += body
    if R.p(0.75):
        out.append(R.verdict(L))
    return out


def plan_negation(R, L):
    out = _intro(R, 0.45, 0.35)
    k = R.choice((2, 3, 3, 4))
    body = [R.judgement(L, lexical=True) for _ in range(k)]
    for i in R.rng.sample(range(k), min(k, R.choice((1, 1, 2)))):
        body[i] = R.negated(L)
    out += body
    if R.p(0.5):
        out.append(R.verdict(L))
    return out


def plan_neg_heavy(R, L):
    out = _intro(R, 0.4, 0.25)
    body = [R.negated(L, p_mirrored=0.9) for _ in range(R.choice((1, 2, 2, 3)))]
    if R.p(0.1):
        body.insert(R.rng.randrange(len(body) + 1), R.implicit(L))
    out += body
    if R.p(0.2):
        out.append(R.verdict(L))
    return out


def plan_mixed(R, L):
    out = _intro(R, 0.45, 0.3)
    stances = [L] * R.choice((1, 2, 2, 3)) + [-L] * R.choice((1, 1, 2, 2))
    R.rng.shuffle(stances)
    body = [R.judgement(s, lexical=R.p(0.5)) for s in stances]
    if R.p(0.4):
        body[R.rng.randrange(len(body))] = R.contrast(L if R.p(0.5) else -L)
    out += body
    u = R.rng.random()
    out.append(
        R.overall(L) if u < 0.35 else R.verdict(L) if u < 0.65 else R.turn(L, p_mirrored=1.0)
    )
    return out


def plan_turn(R, L):
    out = _intro(R, 0.4, 0.2)
    body = [R.judgement(-L) for _ in range(R.choice((2, 2, 3)))]
    if R.p(0.25):
        body[-1] = R.contrast(-L)
    out += body
    out.append(R.turn(L))
    if R.p(0.15):
        out.append(R.implicit(L) if R.p(0.5) else R.judgement(L))
    if R.rating in (5, 6) or R.p(0.2):
        out.append(R.overall(L) if R.p(0.5) else R.verdict(L))
    return out


def plan_concession(R, L):
    out = _intro(R, 0.35, 0.25)
    out.append(R.concession(L))
    out += [R.judgement(L) for _ in range(R.choice((1, 2, 2, 3)))]
    if R.p(0.6):
        out.append(R.verdict(L))
    return out


def plan_comparison(R, L):
    out = _intro(R, 0.45, 0.35)
    body = [R.judgement(L) for _ in range(R.choice((1, 2, 2, 3)))]
    for _ in range(R.choice((1, 1, 2))):
        body.insert(R.rng.randrange(len(body) + 1), R.comparison(L))
    out += body
    if R.p(0.6):
        out.append(R.verdict(L))
    return out


def plan_sarcasm(R, L):
    out = _intro(R, 0.5, 0.25)
    body = [R.sarcasm() for _ in range(R.choice((1, 1, 2)))]
    body += [R.judgement(-1) for _ in range(R.choice((0, 1, 1, 2)))]
    if R.p(0.3):
        body.append(R.comparison(-1))
    R.rng.shuffle(body)
    out += body
    if R.p(0.5):
        out.append(R.verdict(-1))
    return out


def plan_short(R, L):
    form = R.rng.randrange(5)
    if form == 0:
        return [R.verdict(L)] + ([R.judgement(L)] if R.p(0.5) else [])
    if form == 1:
        return [R.judgement(L)] + ([R.verdict(L)] if R.p(0.5) else [])
    if form == 2:
        return [R.negated(L)] + ([R.verdict(L)] if R.p(0.5) else [])
    if form == 3:
        return [R.implicit(L), R.rating_line(L)]
    return [R.opening(), R.judgement(L)]


PLANS = {
    "straight": plan_straight,
    "negation": plan_negation,
    "neg_heavy": plan_neg_heavy,
    "mixed": plan_mixed,
    "turn": plan_turn,
    "concession": plan_concession,
    "comparison": plan_comparison,
    "sarcasm": plan_sarcasm,
    "short": plan_short,
}


# ---------------------------------------------------------------------------------------
# Noise: informal register and typos
# ---------------------------------------------------------------------------------------
_PROTECTED = {
    "never",
    "nothing",
    "nobody",
    "hardly",
    "neither",
    "without",
    "isn't",
    "wasn't",
    "didn't",
    "doesn't",
    "couldn't",
    "wouldn't",
    "aren't",
    "weren't",
    "nowhere",
    "cannot",
    "can't",
    "won't",
    "don't",
}


def make_informal(text: str, rng: random.Random) -> str:
    for pat, rep in LEX.INFORMAL_SUBS:
        if rng.random() < 0.7:
            text = re.sub(pat, rep, text)
    if rng.random() < 0.6:
        text = text.lower()
    if rng.random() < 0.5:
        text = re.sub(r"\.(\s|$)", lambda m: rng.choice(("!", "!!", "...", ".")) + m.group(1), text)
    if rng.random() < 0.5:
        text = f"{rng.choice(LEX.INFORMAL_OPENERS)} {text}"
    if rng.random() < 0.5:
        text = text.rstrip(".!") + " " + rng.choice(LEX.INFORMAL_CLOSERS)
    return text


def make_typos(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    cand = [
        i
        for i, w in enumerate(words)
        if len(w) >= 5 and w.isalpha() and w.islower() and w not in _PROTECTED
    ]
    if not cand:
        return text
    for i in rng.sample(cand, min(len(cand), rng.choice((1, 1, 2, 3)))):
        w = words[i]
        j = rng.randrange(1, len(w) - 1)
        op = rng.randrange(3)
        if op == 0:
            w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        elif op == 1:
            w = w[:j] + w[j + 1 :]
        else:
            w = w[:j] + w[j] + w[j:]
        words[i] = w
    return " ".join(words)


# ---------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------
MAX_SENTENCES = 8


SENT_SPLIT_RE = re.compile(r"(?<=[.!?])\s+")


def count_sentences(text: str) -> int:
    """Sentences as the statistics count them (split after . ! ?)."""
    return len([s for s in SENT_SPLIT_RE.split(text.strip()) if s])


def _trim(sents: list, rng: random.Random) -> list:
    """Keep at most MAX_SENTENCES, dropping neutral ones first, never the final verdict."""
    while sum(count_sentences(t) for t, _ in sents) > MAX_SENTENCES:
        neutral = [i for i, (_, st) in enumerate(sents) if st == 0]
        if neutral:
            del sents[neutral[-1]]
        elif len(sents) == 1:
            break
        else:
            del sents[rng.randrange(len(sents) - 1)]
    return sents


def make_review(g: Grammar, split: str, label: int, rng: random.Random) -> dict:
    """One review (text, rating, tags, hard flag and bookkeeping) for ``split``."""
    R = Review(g, split, rng, label)
    L = 1 if label else -1
    plan = R.rng.choices([n for n, _ in PLAN_WEIGHTS[label]], [w for _, w in PLAN_WEIGHTS[label]])[
        0
    ]
    R.rating = _choose_rating(R, plan)
    sents = PLANS[plan](R, L)
    if R.p(RATING_LINE_P if plan != "short" else 0.0):
        sents.append(R.rating_line(L))
    sents = _trim(sents, rng)
    for i, (t, st) in enumerate(sents):
        for pre in LEX.CONTINUATIONS:
            if t.startswith(pre) and (i == 0 or sents[i - 1][1] != st):
                sents[i] = (t[len(pre) :], st)
    if len({t for t, _ in sents}) < len(sents):
        return None  # a sentence repeated itself: draw again
    stances = [st for _, st in sents if st]
    if not stances or stances[-1] != L:
        raise AssertionError(f"plan {plan} broke the verdict rule: {sents}")
    if +1 in stances and -1 in stances:
        R.tags.add("mixed")
    text = " ".join(polish(t) for t, _ in sents)
    if rng.random() < INFORMAL_P:
        text = make_informal(text, rng)
        R.tags.add("informal")
    if rng.random() < TYPO_P:
        new = make_typos(text, rng)
        if new != text:
            text = new
            R.tags.add("typo")
    surface = surface_polarity(text)
    hard = (label == 1 and surface < 0) or (label == 0 and surface > 0)
    unknown = R.tags - set(PHENOMENA)
    if unknown:
        raise AssertionError(f"tags outside the vocabulary: {sorted(unknown)}")
    return {
        "text": text,
        "label": label,
        "rating": R.rating,
        "hard": hard,
        "phenomena": ",".join(sorted(R.tags)),
        "plan": plan,
        "n_sentences": count_sentences(text),
        "surface": surface,
        "held": R.held,
    }


def generate_corpus(seed: int = DEFAULT_SEED, sizes: dict | None = None) -> dict:
    """{split: [row dict, ...]} for the three splits; rows carry extra bookkeeping keys."""
    sizes = dict(SPLIT_SIZES if sizes is None else sizes)
    g = Grammar(seed)
    seen = set()
    corpus = {}
    for split in SPLITS:
        rng = random.Random(f"reviews:{seed}:{split}")
        n = sizes[split]
        labels = [0] * (n // 2) + [1] * (n - n // 2)
        rng.shuffle(labels)
        rows = []
        for k, label in enumerate(labels):
            for _attempt in range(200):
                row = make_review(g, split, label, rng)
                if row is None:
                    continue
                if split != "train" and not row["held"]:
                    continue
                if row["text"] in seen:
                    continue
                break
            else:
                raise RuntimeError(f"could not make a new {split} review after 200 attempts")
            seen.add(row["text"])
            row["id"] = ID_OFFSETS[split] + k
            rows.append(row)
        corpus[split] = rows
    return corpus


def write_parquet(rows: list, path: Path) -> None:
    """Write the public columns of ``rows`` to ``path`` (zstd, no index)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": pa.array([r["id"] for r in rows], pa.int64()),
            "text": pa.array([r["text"] for r in rows], pa.string()),
            "label": pa.array([r["label"] for r in rows], pa.int64()),
            "rating": pa.array([r["rating"] for r in rows], pa.int64()),
            "hard": pa.array([r["hard"] for r in rows], pa.bool_()),
            "phenomena": pa.array([r["phenomena"] for r in rows], pa.string()),
        }
    )
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression="zstd", compression_level=9)
    tmp.replace(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: %(default)s)")
    ap.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)"
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    corpus = generate_corpus(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        write_parquet(corpus[split], args.out / f"{split}.parquet")
    dt = time.perf_counter() - t0
    for split in SPLITS:
        rows = corpus[split]
        hard = sum(r["hard"] for r in rows) / len(rows)
        pos = sum(r["label"] for r in rows) / len(rows)
        print(f"{split:10s} {len(rows):6d} reviews  positive {pos:.1%}  hard {hard:.1%}")
    print(f"wrote {', '.join(s + '.parquet' for s in SPLITS)} to {args.out} in {dt:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
