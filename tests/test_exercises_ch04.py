"""Chapter 04 checkers: the notebook's answers pass, plausible wrong answers fail, stubs wait."""

import copy

import pytest
import torch
import torch.nn.functional as F

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected, solution, \
    stub, wrong_params
from course_utils._maintain.testing import solution_notebook
from course_utils.checking import ExerciseNotSolved
from course_utils.exercises import ch04
from course_utils.data import load_digits_splits
from course_utils.models.positional import sinusoidal_table
from course_utils.models.vit import ViT, ViTConfig, patchify, unpatchify

pytestmark = pytest.mark.usefixtures("lenient_checkers")

NOTEBOOK = solution_notebook("04_vit.ipynb")  # the nb fixture imports NAMES
NAMES = ["patchify", "num_tokens", "attention_rollout", "sincos_2d", "window_partition",
         "shuffle_patches", "match_positions"]
SOLUTIONS = {"check_patchify": "patchify", "check_num_tokens": "num_tokens",
             "check_attention_rollout": "attention_rollout", "check_sincos_2d": "sincos_2d",
             "check_window_partition": "window_partition"}


def _patchify(images, p, order=(0, 2, 4, 1, 3, 5)):
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // p, p, w // p, p).permute(*order)
    return x.reshape(b, (h // p) * (w // p), c * p * p)


def _rollout(att, residual=0.5, reverse=False, renormalise=True, fuse="mean"):
    fused = att.mean(-3) if fuse == "mean" else att.max(-3).values
    mixed = residual * torch.eye(fused.shape[-1]) + (1 - residual) * fused
    if renormalise:
        mixed = mixed / mixed.sum(-1, keepdim=True)
    out = mixed[..., 0, :, :]
    for layer in range(1, mixed.shape[-3]):
        out = out @ mixed[..., layer, :, :] if reverse else mixed[..., layer, :, :] @ out
    return out


def _sincos(gh, gw, d, first="rows", cols_from="cols"):
    half = d // 2
    rows = sinusoidal_table(gh, half)[:, None, :].expand(gh, gw, half)
    cols = sinusoidal_table(gw, half)[None, :, :].expand(gh, gw, half)
    if cols_from == "rows":
        cols = rows
    parts = [rows, cols] if first == "rows" else [cols, rows]
    return torch.cat(parts, -1).reshape(gh * gw, d)


def _windows(x, w, order=(0, 1, 3, 2, 4, 5)):
    b, h, wd, c = x.shape
    x = x.reshape(b, h // w, w, wd // w, w, c).permute(*order)
    return x.reshape(-1, w, w, c)


WRONG = {
    "check_patchify": {
        "channels-last-in-patch": lambda im, p: _patchify(im, p, (0, 2, 4, 3, 5, 1)),
        "column-major-patches": lambda im, p: _patchify(im, p, (0, 4, 2, 1, 3, 5)),
        "reshape-without-permute": lambda im, p: im.reshape(
            im.shape[0], (im.shape[2] // p) * (im.shape[3] // p), -1),
    },
    "check_num_tokens": {
        "square-images-only": lambda h, w, p, cls_token=True: (h // p) ** 2 + 1,
        "cls-always-added": lambda h, w, p, cls_token=True: (h // p) * (w // p) + 1,
        "float-division": lambda h, w, p, cls_token=True: h / p * (w / p) + int(cls_token),
    },
    "check_attention_rollout": {
        "product-in-wrong-order": lambda a, residual=0.5: _rollout(a, residual, reverse=True),
        "residual-ignored": lambda a, residual=0.5: _rollout(a, 0.0),
        "rows-not-renormalised": lambda a, residual=0.5: _rollout(a, residual,
                                                                 renormalise=False),
        "max-over-heads": lambda a, residual=0.5: _rollout(a, residual, fuse="max"),
    },
    "check_sincos_2d": {
        "columns-first": lambda gh, gw, d: _sincos(gh, gw, d, first="cols"),
        "rows-twice": lambda gh, gw, d: _sincos(gh, gw, d, cols_from="rows"),
        "patches-column-by-column": lambda gh, gw, d: _sincos(gh, gw, d).reshape(gh, gw, d)
        .transpose(0, 1).reshape(gh * gw, d),
    },
    "check_window_partition": {
        "reshape-without-permute": lambda x, w: x.reshape(-1, w, w, x.shape[-1]),
        "windows-column-major": lambda x, w: _windows(x, w, (0, 3, 1, 2, 4, 5)),
        "window-transposed": lambda x, w: _windows(x, w, (0, 1, 3, 4, 2, 5)),
    },
}


@pytest.mark.parametrize("checker", sorted(SOLUTIONS))
def test_solution_passes_and_stub_waits(nb, checker):
    check = getattr(ch04, checker)
    assert_passes(check, solution(nb, SOLUTIONS[checker]))
    assert_not_attempted(check)


@pytest.mark.parametrize("checker, answer", wrong_params(WRONG))
def test_wrong_answer_rejected(checker, answer):
    assert_rejected(getattr(ch04, checker), answer)


def test_crashing_solution_is_reported_not_raised():
    result = assert_rejected(ch04.check_patchify, lambda images, p: images.view(-1, 3, 7))
    assert "raised RuntimeError" in result.message


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch04.check_window_partition(stub)


# Exercise 6 (experiment): shuffle the patches, then the position table.
@pytest.fixture(scope="module")
def trained_vit():
    """A small ViT trained briefly on digits: it uses its positions, so shuffling hurts."""
    data = load_digits_splits(0)
    x, y = data.split("train")
    x_te, y_te = data.split("test")
    torch.manual_seed(0)
    model = ViT(ViTConfig(image_size=8, patch_size=2, in_channels=1, d_model=32, n_layers=1,
                          n_heads=2, d_ff=64, n_classes=10))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    xn = data.normalize(x)
    for step in range(150):
        idx = torch.randint(len(xn), (64,), generator=torch.Generator().manual_seed(step))
        loss = F.cross_entropy(model(xn[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), data.normalize(x_te), y_te


def _shuffle(images, perm, p):
    return unpatchify(patchify(images, p)[:, perm], p, images.shape[1], images.shape[-2])


def _match(model, perm, rows=None, cls_too=False, in_place=False):
    out = model if in_place else copy.deepcopy(model)
    with torch.no_grad():
        table = model.position_embeddings.detach().clone()
        if cls_too:  # the [CLS] row shuffled along with the patches
            out.position_embeddings[:, :-1] = table[:, :-1][:, perm]
        else:
            out.position_embeddings[:, 1:] = table[:, 1:][:, perm if rows is None else rows(perm)]
    return out


WRONG_SHUFFLE = {
    "shuffle-with-inverse-perm": (lambda im, perm, p: _shuffle(im, torch.argsort(perm), p), _match),
    "shuffle-pixels-not-patches": (lambda im, perm, p: im.flatten(2)[..., perm.repeat(4)[:im[0, 0].numel()]]
                                   .reshape(im.shape), _match),
    "match-with-inverse-perm": (_shuffle, lambda m, perm: _match(m, perm, rows=torch.argsort)),
    "match-moves-cls-row": (_shuffle, lambda m, perm: _match(m, perm, cls_too=True)),
    "match-edits-the-model": (_shuffle, lambda m, perm: _match(m, perm, in_place=True)),
}


def test_patch_shuffle_solution_passes_and_stub_waits(nb, trained_vit):
    model, x, y = trained_vit
    result = assert_passes(lambda s, m: ch04.check_patch_shuffle(s, m, model, x, y, 2),
                           solution(nb, ["shuffle_patches", "match_positions"]))
    assert "the experiment" in result.message
    assert_not_attempted(lambda s, m: ch04.check_patch_shuffle(s, m, model, x, y, 2), 2)


@pytest.mark.parametrize("answer", list(WRONG_SHUFFLE.values()), ids=list(WRONG_SHUFFLE))
def test_patch_shuffle_wrong_answers_rejected(trained_vit, answer):
    model, x, y = trained_vit
    assert_rejected(lambda s, m: ch04.check_patch_shuffle(s, m, model, x, y, 2), answer)


def test_patch_shuffle_experiment_needs_the_effect(trained_vit):
    """A 'shuffle' that changes nothing passes no hidden case and shows no accuracy drop."""
    model, x, y = trained_vit
    assert_rejected(lambda s, m: ch04.check_patch_shuffle(s, m, model, x, y, 2),
                    (lambda im, perm, p: im.clone(), lambda m, perm: copy.deepcopy(m)))
