"""Checkers for chapter 04 (Vision Transformer)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_utils.checking import Case, CheckResult, Part, run_check, run_check_parts
from course_utils.models.analysis import attention_rollout
from course_utils.models.vit import (ViT, ViTConfig, num_patch_tokens, patchify, sincos_2d_table,
                                     unpatchify, window_partition)
from course_utils.profile import current_profile


def _images(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def check_patchify(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Exercise 1: (B, C, H, W) -> (B, N, C·P·P), patches row by row, Conv2d weight order."""
    shapes = [((1, 1, 4, 4), 2, "1 grey 4x4 image, P=2"), ((2, 1, 8, 8), 2, "digits, P=2"),
              ((2, 3, 8, 8), 4, "RGB 8x8, P=4"), ((1, 3, 6, 9), 3, "non-square 6x9, P=3"),
              ((2, 2, 4, 4), 1, "P=1: every pixel is a patch"),
              ((1, 3, 4, 4), 4, "P = image size: one patch")]
    cases = [Case(args=(_images(*shape, seed=i), p), label=label)
             for i, (shape, p, label) in enumerate(shapes)]
    return run_check("Exercise 1 · patchify", fn, cases, reference=patchify,
                     hint="split each spatial axis into (which patch, where inside the patch); "
                          "then the two 'which patch' axes must come before the channel axis, "
                          "and channel, row, column inside the patch -- the order of a Conv2d "
                          "weight (d, C, P, P). reshape, permute, reshape.")


def check_num_tokens(fn: Callable[..., int]) -> CheckResult:
    """Exercise 2: sequence length (H/P)·(W/P) (+ 1 with a [CLS] token)."""
    cases = [Case(args=(224, 224, 16)), Case(args=(32, 32, 4)), Case(args=(8, 8, 2)),
             Case(args=(384, 384, 16)), Case(args=(224, 224, 14)), Case(args=(64, 32, 8)),
             Case(args=(224, 224, 16), kwargs={"cls_token": False}),
             Case(args=(48, 96, 16), kwargs={"cls_token": False})]
    return run_check("Exercise 2 · num_tokens", fn, cases, reference=num_patch_tokens,
                     hint="(H // P) * (W // P) patches, plus one if cls_token is True.")


def _softmax_maps(*shape: int, seed: int) -> torch.Tensor:
    return torch.softmax(2 * _images(*shape, seed=seed), dim=-1)


def _keep(*shape: int, seed: int) -> torch.Tensor:
    return (torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) > 0.3).float()


def check_attention_rollout(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 3: rollout over layers of head-averaged attention with the residual mixed in."""
    cases = [Case(args=(_softmax_maps(1, 1, 3, 3, seed=0),), label="1 layer, 1 head, T=3"),
             Case(args=(_softmax_maps(2, 4, 5, 5, seed=1),), label="2 layers, 4 heads, T=5"),
             Case(args=(_softmax_maps(4, 2, 17, 17, seed=2),), label="4 layers, 2 heads, T=17"),
             Case(args=(_softmax_maps(3, 2, 4, 4, seed=3),), kwargs={"residual": 0.0},
                  label="residual=0: plain product of the head-mean maps"),
             Case(args=(_softmax_maps(3, 2, 4, 4, seed=4),), kwargs={"residual": 0.9},
                  label="residual=0.9"),
             Case(args=(_softmax_maps(2, 3, 2, 4, 6, 6, seed=5),),
                  label="batch dimensions (2, 3), 2 layers, 4 heads, T=6"),
             Case(args=(_softmax_maps(2, 2, 5, 5, seed=6) * _keep(2, 2, 5, 5, seed=7),),
                  label="rows that no longer sum to 1 (the lowest weights discarded): "
                        "renormalise after adding the residual")]
    return run_check("Exercise 3 · attention_rollout", fn, cases, reference=attention_rollout,
                     atol=1e-5, rtol=1e-4,
                     hint="the residual path keeps a share r of each token's own state (an "
                          "identity matrix); every row must stay a distribution; information "
                          "passes layer 1 first, so the last layer multiplies from the left.")


def check_sincos_2d(fn: Callable[[int, int, int], torch.Tensor]) -> CheckResult:
    """Exercise 4: 2-D sin-cos table: rows in the first half of the channels, columns in the second."""
    cases = [Case(args=(1, 1, 4)), Case(args=(4, 4, 8)), Case(args=(2, 3, 16)),
             Case(args=(14, 14, 64)), Case(args=(3, 1, 12))]
    return run_check("Exercise 4 · sincos_2d", fn, cases, reference=sincos_2d_table,
                     hint="each patch gets two 1-D codes side by side -- its row's, then its "
                          "column's, each d/2 wide; patches are numbered row by row, so the row "
                          "index changes slowest.")


def check_window_partition(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Exercise 5: Swin's window partition (B, H, W, C) -> (B·nW, w, w, C)."""
    cases = [Case(args=(_images(1, 4, 4, 1, seed=0), 2), label="4x4 grid, window 2"),
             Case(args=(_images(2, 8, 8, 3, seed=1), 4), label="batch 2, 8x8, window 4"),
             Case(args=(_images(1, 4, 6, 2, seed=2), 2), label="non-square 4x6, window 2"),
             Case(args=(_images(1, 6, 6, 5, seed=3), 6), label="one window covers all"),
             Case(args=(_images(3, 2, 2, 4, seed=4), 1), label="window 1: every patch alone")]
    return run_check("Exercise 5 · window_partition", fn, cases, reference=window_partition,
                     hint="patchify one level up: split H and W into (which window, where inside "
                          "it), put the two 'which window' axes next to the batch axis, then "
                          "flatten them into one.")


def _shuffle_patches_reference(images: torch.Tensor, perm: torch.Tensor, patch_size: int
                               ) -> torch.Tensor:
    """Slot k of the result holds patch perm[k] of the input (patches row by row)."""
    patches = patchify(images, patch_size)
    return unpatchify(patches[:, perm], patch_size, images.shape[1], images.shape[-2])


def _random_vit(seed: int) -> ViT:
    torch.manual_seed(seed)
    model = ViT(ViTConfig(image_size=8, patch_size=2, in_channels=1, d_model=16, n_layers=2,
                          n_heads=2, d_ff=32, n_classes=10)).eval()
    with torch.no_grad():  # positions as large as the patch tokens, so a wrong table shows;
        model.position_embeddings.normal_(0.0, 1.0)  # and a non-zero head (ViT starts at 0)
        model.head.weight.normal_(0.0, 1.0)
        for weight in model.h.parameters():  # peaked attention: the arrangement matters
            if weight.ndim == 2:
                weight.mul_(8.0)
    return model


def _perm(n: int, seed: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def _accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    return float((model(images).argmax(-1) == labels).float().mean())


def check_patch_shuffle(shuffle_fn: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor],
                        match_fn: Callable[[torch.nn.Module, torch.Tensor], torch.nn.Module],
                        model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
                        patch_size: int, seed: int = 0) -> CheckResult:
    """Exercise 6 (experiment): shuffle the patches, then undo it in the position table.

    ``shuffle_fn(images, perm, patch_size)``: slot k gets patch perm[k]. ``match_fn(model,
    perm)``: a copy of ``model`` whose position table is permuted so that the copy on the
    shuffled images computes what ``model`` computes on the originals. The experiment runs
    both on the notebook's trained ViT and its (normalised) test ``images``: shuffling must
    cost accuracy, and the matched copy must get it all back.
    """
    shuffle_cases = [
        Case(args=(_images(1, 1, 4, 4, seed=0), torch.tensor([3, 2, 1, 0]), 2),
             label="one 4x4 image, P=2, perm [3, 2, 1, 0] (reverse the patches)"),
        Case(args=(_images(2, 1, 8, 8, seed=1), _perm(16, 2), 2),
             label="digits shape (2, 1, 8, 8), P=2, a random perm"),
        Case(args=(_images(2, 3, 8, 8, seed=3), torch.tensor([1, 2, 3, 0]), 4),
             label="RGB 8x8, P=4, a cycle [1, 2, 3, 0] (perm != its inverse)"),
        Case(args=(_images(1, 2, 4, 6, seed=4), _perm(6, 5), 2),
             label="non-square 4x6 (a 2x3 grid), P=2")]

    def match_case(seed_model: int, seed_perm: int) -> Case:
        given = _random_vit(seed_model)  # the learner's function gets this one
        perm = _perm(given.config.num_patches, seed_perm)

        def check(copied: object) -> tuple[bool, str]:
            reference = _random_vit(seed_model)
            x = _images(3, 1, 8, 8, seed=seed_perm)
            if not isinstance(copied, torch.nn.Module):
                return False, "an nn.Module (a copy of the model with its positions permuted)"
            if copied is given or not torch.equal(given.position_embeddings,
                                                  reference.position_embeddings):
                return False, ("a new model, with the original left unchanged (copy.deepcopy "
                               "it first)")
            with torch.no_grad():
                want = reference(x)
                got = copied.eval()(_shuffle_patches_reference(x, perm, 2))
            diff = (got - want).abs().max().item()
            return diff <= 1e-4, (f"copy(shuffled images) == model(images) to 1e-4; max "
                                  f"|Δlogits| = {diff:.2e} -- which row must slot k get?")
        return Case(args=(given, perm), check=check,
                    label=f"a random ViT (seed {seed_model}), a random perm of 16 patches "
                          f"(seed {seed_perm})")

    match_cases = [match_case(s, p) for s, p in ((0, 1), (1, 2), (2, 3))]

    def experiment() -> dict[str, float]:
        perm = _perm(images.shape[-2] * images.shape[-1] // patch_size ** 2, seed)
        shuffled = shuffle_fn(images, perm, patch_size)
        matched = match_fn(model, perm)
        return {"original": _accuracy(model, images, labels),
                "shuffled": _accuracy(model, shuffled, labels),
                "shuffled, positions matched": _accuracy(matched, shuffled, labels)}

    def effect(out: object) -> tuple[bool, str]:
        want = ("shuffling costs >= 0.2 accuracy, and the matched copy gets exactly the original "
                "accuracy back")
        if not isinstance(out, dict):
            return False, want
        majority = float(torch.bincount(labels.flatten().long().cpu()).max()) / labels.numel()
        # the smoke profile's 10-step ViT on a fixture dataset, or any model no better than
        # guessing the majority class, has no position knowledge to lose: then only the exact
        # restoration is checked
        barely_trained = (current_profile().name == "smoke"
                          or out["original"] < max(0.5, majority + 0.2))
        ok = ((out["shuffled"] <= out["original"] - 0.2 or barely_trained)
              and abs(out["shuffled, positions matched"] - out["original"]) < 1e-9)
        return ok, want

    result = run_check_parts("Exercise 6 · shuffle the patches, then the positions", [
        Part("shuffle_patches", shuffle_fn, shuffle_cases, reference=_shuffle_patches_reference,
             hint="patchify, index the patch dimension with perm, unpatchify. Slot k gets "
                  "patch perm[k] -- not the other way round."),
        Part("match_positions", match_fn, match_cases,
             hint="a patch's token is its embedding plus the position row of the slot it "
                  "sits in. Which row did patch perm[k] have before it moved? Leave the "
                  "[CLS] row where it is, and copy.deepcopy the model first."),
        Part("the experiment on the trained ViT", lambda: experiment(),
             [Case(check=effect, label="your two functions on the notebook's trained ViT")]),
    ])
    if result.ok:
        for name, value in experiment().items():
            print(f"   {name:>30}: test accuracy {value:.3f}")
    return result

