"""course_utils._maintain.wordnet: the offline WordNet installer (`make setup`)."""

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from course_utils._maintain import wordnet


def test_lexnames_table_is_wordnet_3_0s():
    lines = wordnet._lexnames_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3" and lines[3] == "03\tnoun.Tops\t1"
    assert lines[-1] == "44\tadj.ppl\t3"
    assert [int(line.split("\t")[0]) for line in lines] == list(range(45))


def _fake_wordnet_files(folder: Path) -> None:
    folder.mkdir(parents=True)
    for name in wordnet.FILES:
        (folder / name).write_text(f"{name}\n")


def _ar_member(name: str, data: bytes) -> bytes:
    header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
    return header + data + (b"\n" if len(data) % 2 else b"")


def test_unpack_deb_without_dpkg(tmp_path, monkeypatch):
    # a minimal .deb: an ar archive whose data.tar.gz holds usr/share/wordnet/...
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:gz") as tar:
        for name in ("data.noun", "index.sense"):
            info = tarfile.TarInfo(f"./usr/share/wordnet/{name}")
            body = f"{name}\n".encode()
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    deb = tmp_path / "wordnet-base.deb"
    deb.write_bytes(b"!<arch>\n" + _ar_member("debian-binary", b"2.0\n")
                    + _ar_member("control.tar.gz", b"") + _ar_member("data.tar.gz", payload.getvalue()))
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no dpkg-deb
    wordnet._unpack_deb(deb, tmp_path / "root")
    assert (tmp_path / "root/usr/share/wordnet/index.sense").read_text() == "index.sense\n"


def test_write_tree_copies_files_and_adds_lexnames(tmp_path):
    source = tmp_path / "debian"
    _fake_wordnet_files(source)
    dest = tmp_path / "nltk_data"
    wordnet._write_tree(source, dest)
    tree = dest / "corpora" / "wordnet"
    assert wordnet.installed(dest)
    assert not any(p.is_symlink() for p in tree.iterdir())  # nltk refuses symlinks
    assert (tree / "lexnames").read_text().count("\n") == 45
    assert (tree.stat().st_mode & 0o755) == 0o755


def test_install_is_idempotent_and_reports_every_failed_source(tmp_path, monkeypatch):
    dest = tmp_path / "nltk_data"
    calls = []

    def fail(name):
        def source(d):
            calls.append(name)
            raise RuntimeError(f"{name} unavailable")
        return source

    monkeypatch.setattr(wordnet, "SOURCES", {k: fail(k) for k in ("system", "apt", "nltk")})
    with pytest.raises(RuntimeError) as err:
        wordnet.install(dest, source="auto")
    assert "apt: RuntimeError: apt unavailable" in str(err.value)
    assert "wordnet-base" in str(err.value)
    _fake_wordnet_files(tmp_path / "debian")
    wordnet._write_tree(tmp_path / "debian", dest)
    calls.clear()
    assert "already installed" in wordnet.install(dest)
    assert calls == []


def test_the_projects_tree_is_installed_and_readable():
    dest = wordnet.default_destination()
    assert wordnet.installed(dest), "run `make setup`: it installs WordNet into the venv"
    assert {"beneficial", "well"} <= set(wordnet.verify(dest))
