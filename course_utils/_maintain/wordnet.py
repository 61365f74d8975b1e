"""Install Princeton WordNet 3.0 for NLTK without ``nltk.download`` (chapter 06).

NLTK's own download host is unreachable offline, so ``make setup`` builds the
``nltk_data/corpora/wordnet`` tree from Debian's ``wordnet-base`` and ``wordnet-sense-index``
packages (the same WordNet 3.0 database files that NLTK's zip holds). Sources, tried in
order until one works:

1. ``system``: the files of those packages if they are installed (``/usr/share/wordnet``);
2. ``apt``: ``apt-get download`` the two ``.deb`` files (no root needed; with root, or
   password-less sudo, ``apt-get update`` first if the package lists are empty) and unpack
   them with ``dpkg-deb -x`` (or, without dpkg, Python's ``tarfile`` on the ``ar`` members);
3. ``nltk``: ``nltk.download("wordnet")`` -- works on an ordinary online laptop.

Files are *copied* (NLTK 3.10's path sandbox refuses symlinks that leave the data root) and
``lexnames``, which Debian does not ship, is written from the table below (WordNet's
``lexnames(5WN)``). The default destination is ``<sys.prefix>/nltk_data``, a folder NLTK
searches by default, so the course's venv (and a conda env) needs no ``NLTK_DATA``.
Idempotent: an existing tree is checked and kept. Usage:
``python -m course_utils._maintain.wordnet [DEST] [--force] [--source auto|system|apt|nltk]``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import warnings
from pathlib import Path

__all__ = ["default_destination", "installed", "install", "LEXNAMES"]

PACKAGES = ("wordnet-base", "wordnet-sense-index")
SYSTEM_DIR = Path("/usr/share/wordnet")
# The database files NLTK's WordNetCorpusReader reads (plus the sense index and counts).
FILES = ("data.adj", "data.adv", "data.noun", "data.verb", "index.adj", "index.adv",
         "index.noun", "index.verb", "index.sense", "adj.exc", "adv.exc", "noun.exc",
         "verb.exc", "cntlist.rev")
REQUIRED = ("lexnames", "data.noun", "index.noun", "data.adj", "index.adj", "index.sense")
# lexnames(5WN) of WordNet 3.0: file number, lexicographer file, syntactic category
LEXNAMES = """00 adj.all 3;01 adj.pert 3;02 adv.all 4;03 noun.Tops 1;04 noun.act 1;05 noun.animal 1;
06 noun.artifact 1;07 noun.attribute 1;08 noun.body 1;09 noun.cognition 1;10 noun.communication 1;
11 noun.event 1;12 noun.feeling 1;13 noun.food 1;14 noun.group 1;15 noun.location 1;16 noun.motive 1;
17 noun.object 1;18 noun.person 1;19 noun.phenomenon 1;20 noun.plant 1;21 noun.possession 1;
22 noun.process 1;23 noun.quantity 1;24 noun.relation 1;25 noun.shape 1;26 noun.state 1;
27 noun.substance 1;28 noun.time 1;29 verb.body 2;30 verb.change 2;31 verb.cognition 2;
32 verb.communication 2;33 verb.competition 2;34 verb.consumption 2;35 verb.contact 2;
36 verb.creation 2;37 verb.emotion 2;38 verb.motion 2;39 verb.perception 2;40 verb.possession 2;
41 verb.social 2;42 verb.stative 2;43 verb.weather 2;44 adj.ppl 3"""
LICENSE_NOTE = ("WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.\n"
                "Used under the WordNet 3.0 license (free use, copy, modification and "
                "distribution with this notice): https://wordnet.princeton.edu/license-and-commercial-use\n")


def default_destination() -> Path:
    """``<sys.prefix>/nltk_data``: on NLTK's default search path for this interpreter."""
    return Path(sys.prefix) / "nltk_data"


def _wordnet_dir(dest: Path) -> Path:
    return Path(dest) / "corpora" / "wordnet"


def installed(dest: str | Path | None = None) -> bool:
    """True if ``dest`` holds a complete WordNet tree for NLTK."""
    folder = _wordnet_dir(Path(dest) if dest else default_destination())
    return all((folder / name).is_file() and (folder / name).stat().st_size > 0
               for name in REQUIRED)


def _lexnames_text() -> str:
    rows = [item.split() for item in LEXNAMES.replace("\n", "").split(";")]
    return "".join(f"{number}\t{name}\t{category}\n" for number, name, category in rows)


def _write_tree(source: Path, dest: Path) -> None:
    """Copy the database files from ``source`` into ``dest/corpora/wordnet`` atomically."""
    missing = [f for f in ("data.noun", "index.noun", "index.sense") if not (source / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{source} lacks {missing} (need both {' and '.join(PACKAGES)})")
    target = _wordnet_dir(dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the tree is read by every user
    try:
        for name in FILES:
            if (source / name).is_file():
                shutil.copyfile(source / name, staging / name)  # a copy, never a symlink
        (staging / "lexnames").write_text(_lexnames_text())
        (staging / "LICENSE").write_text(LICENSE_NOTE)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _from_system(dest: Path) -> str:
    _write_tree(SYSTEM_DIR, dest)
    return f"copied from {SYSTEM_DIR}"


def _can_update_lists() -> list[str] | None:
    """The command prefix for ``apt-get update`` (root, or sudo without a password), or None."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True
                                               ).returncode == 0:
        return ["sudo", "-n"]
    return None


def _unpack_deb(deb: Path, out: Path) -> None:
    """``dpkg-deb -x``; without dpkg, read the ``ar`` archive and untar ``data.tar.*``."""
    if shutil.which("dpkg-deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(out)], check=True)
        return
    blob = deb.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise ValueError(f"{deb} is not a Debian package (ar archive)")
    pos = 8
    while pos + 60 <= len(blob):
        name = blob[pos:pos + 16].decode().strip().rstrip("/")
        size = int(blob[pos + 48:pos + 58].decode().strip())
        body = blob[pos + 60:pos + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                tar.extractall(out, filter="data")
            return
        pos += 60 + size + (size % 2)
    raise ValueError(f"{deb} has no data.tar member")


def _from_apt(dest: Path) -> str:
    if not shutil.which("apt-get"):
        raise FileNotFoundError("apt-get not found (not a Debian/Ubuntu system)")
    with tempfile.TemporaryDirectory() as tmp:
        def download() -> subprocess.CompletedProcess:
            return subprocess.run(["apt-get", "download", *PACKAGES], cwd=tmp,
                                  capture_output=True, text=True)

        result = download()
        if result.returncode != 0:
            prefix = _can_update_lists()
            if prefix is None:
                raise RuntimeError("apt-get download failed and the package lists cannot be "
                                   f"updated without root: {result.stderr.strip()[-300:]}")
            subprocess.run([*prefix, "apt-get", "update", "-qq"], capture_output=True)
            result = download()
            if result.returncode != 0:
                raise RuntimeError(f"apt-get download failed: {result.stderr.strip()[-300:]}")
        unpacked = Path(tmp) / "root"
        for deb in sorted(Path(tmp).glob("*.deb")):
            _unpack_deb(deb, unpacked)
        _write_tree(unpacked / "usr" / "share" / "wordnet", dest)
    return "downloaded with apt-get download (" + ", ".join(PACKAGES) + ")"


def _from_nltk(dest: Path) -> str:
    import nltk

    if not nltk.download("wordnet", download_dir=str(dest), quiet=True, raise_on_error=False):
        raise RuntimeError("nltk.download('wordnet') failed (no connection to NLTK's data host)")
    zipped = _wordnet_dir(dest).with_suffix(".zip")
    if zipped.exists() and not _wordnet_dir(dest).exists():
        shutil.unpack_archive(zipped, zipped.parent)
    return "downloaded with nltk.download"


SOURCES = {"system": _from_system, "apt": _from_apt, "nltk": _from_nltk}


def verify(dest: Path) -> list[str]:
    """Synonyms of "good" read through NLTK from ``dest`` (a smoke test of the tree)."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    import nltk.data

    if str(dest) not in nltk.data.path:
        nltk.data.path.insert(0, str(dest))
    with warnings.catch_warnings():  # "multilingual functions are not available": no OMW here
        warnings.filterwarnings("ignore", message=".*multilingual functions.*")
        reader = WordNetCorpusReader(str(_wordnet_dir(dest)), None)
    return sorted({lemma.name() for s in reader.synsets("good") for lemma in s.lemmas()})


def install(dest: str | Path | None = None, *, source: str = "auto", force: bool = False) -> str:
    """Build the WordNet tree in ``dest`` (default: ``<sys.prefix>/nltk_data``); returns how."""
    dest = Path(dest).resolve() if dest else default_destination()
    if installed(dest) and not force:
        return f"WordNet already installed in {dest}"
    order = list(SOURCES) if source == "auto" else [source]
    if source == "auto" and not (SYSTEM_DIR / "index.sense").is_file():
        order.remove("system")
    errors = []
    for name in order:
        try:
            how = SOURCES[name](dest)
        except Exception as err:  # try the next source, report all at the end
            errors.append(f"{name}: {type(err).__name__}: {err}")
            continue
        if installed(dest):
            return f"WordNet 3.0 installed in {dest} ({how})"
        errors.append(f"{name}: the tree in {dest} is incomplete")
    raise RuntimeError("could not install WordNet for NLTK:\n  " + "\n  ".join(errors) +
                       "\nInstall the Debian packages " + " ".join(PACKAGES) + " (or run "
                       "nltk.download('wordnet') on a connected machine) and run "
                       "`python -m course_utils._maintain.wordnet` again.")


def main(argv: list[str] | None = None) -> int:
    """Command line; exits 1 with the reasons if no source worked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", nargs="?", default=None,
                        help="nltk_data folder (default: <sys.prefix>/nltk_data)")
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    parser.add_argument("--source", choices=["auto", *SOURCES], default="auto")
    args = parser.parse_args(argv)
    try:
        print(install(args.dest, source=args.source, force=args.force))
    except RuntimeError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    dest = Path(args.dest).resolve() if args.dest else default_destination()
    words = verify(dest)
    print(f"check: {len(words)} lemma names in the synsets of 'good', e.g. {words[:4]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
