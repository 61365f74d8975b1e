"""Checkers for chapter 10 (distillation, pruning, quantization)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils import prune

from course_utils import compression
from course_utils.checking import Case, CheckResult, run_check


def _randn(*shape: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _kd_variants(s: torch.Tensor, t: torch.Tensor, y: torch.Tensor, temperature: float,
                 alpha: float) -> dict[str, float]:
    """The loss, and the values the usual mistakes give, for one case."""
    import torch.nn.functional as F

    log_q, log_p = F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1)
    p, q = log_p.exp(), log_q.exp()
    kl = (p * (log_p - log_q)).sum(-1).mean()
    ce = F.cross_entropy(s, y)
    t2 = temperature ** 2
    raw_p = F.softmax(t, -1)
    return {
        "right": float(alpha * t2 * kl + (1 - alpha) * ce),
        "the KL is not multiplied by T²": float(alpha * kl + (1 - alpha) * ce),
        "the KL is multiplied by T, not T²": float(alpha * temperature * kl + (1 - alpha) * ce),
        "the KL runs the wrong way, KL(student ‖ teacher)":
            float(alpha * t2 * (q * (log_q - log_p)).sum(-1).mean() + (1 - alpha) * ce),
        "the KL is averaged over classes too (reduction='mean'), not only over examples":
            float(alpha * t2 * kl / s.shape[-1] + (1 - alpha) * ce),
        "the cross-entropy uses the softened logits (it belongs at T = 1)":
            float(alpha * t2 * kl + (1 - alpha) * F.cross_entropy(s / temperature, y)),
        "the teacher is not softened by T":
            float(alpha * t2 * (raw_p * (raw_p.clamp_min(1e-30).log() - log_q)).sum(-1).mean()
                  + (1 - alpha) * ce),
        "it is the soft cross-entropy H(p, q), not the KL (they differ by the teacher's entropy)":
            float(alpha * t2 * -(p * log_q).sum(-1).mean() + (1 - alpha) * ce),
        "alpha and 1 − alpha are swapped": float((1 - alpha) * t2 * kl + alpha * ce),
        "the KL is summed over the batch, not averaged":
            float(alpha * t2 * (p * (log_p - log_q)).sum() + (1 - alpha) * ce),
    }


def _kd_check(args: tuple) -> Callable[[object], tuple[bool, str]]:
    values = _kd_variants(*args)
    right = values["right"]

    def check(got: object) -> tuple[bool, str]:
        text = f"{right:.6g} (a scalar)"
        if isinstance(got, torch.Tensor):
            if got.numel() != 1:
                return False, (f"{text}\n   what differs: you returned a tensor of shape "
                               f"{tuple(got.shape)}; average over the batch to one number")
            got = got.item()
        if not isinstance(got, (float, int)) or isinstance(got, bool):
            return False, f"{text}\n   what differs: expected a number, got {type(got).__name__}"
        got = float(got)
        if got != got:  # NaN
            return False, (f"{text}\n   what differs: got nan -- a log of 0? Use log_softmax "
                           f"for log-probabilities (log(softmax) underflows), and check what "
                           f"F.kl_div expects as its target")
        if abs(got - right) <= 1e-5 + 1e-4 * abs(right):
            return True, text
        likely = [name for name, value in values.items() if name != "right"
                  and abs(got - value) <= 1e-5 + 1e-4 * abs(value)]
        reason = f"got {got:.6g}, |got − expected| = {abs(got - right):.3g}"
        if likely:
            reason += f"; that is the value you get when {likely[0]}"
        return False, f"{text}\n   what differs: {reason}"

    return check


def check_kd_loss(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 1: alpha·T²·KL(teacher_T ‖ student_T) + (1 − alpha)·CE, batch mean."""
    cases = []
    settings = [(4, 10, 1.0, 0.5, "T=1, alpha=0.5"), (8, 10, 2.0, 0.5, "T=2, alpha=0.5"),
                (6, 5, 4.0, 0.9, "T=4, alpha=0.9"), (3, 10, 5.0, 1.0, "alpha=1: KD only"),
                (5, 3, 3.0, 0.0, "alpha=0: plain cross-entropy"),
                (16, 10, 8.0, 0.7, "T=8, alpha=0.7, 16 examples")]
    for i, (b, c, t, a, label) in enumerate(settings):
        s, te = _randn(b, c, seed=2 * i, scale=2.0), _randn(b, c, seed=2 * i + 1, scale=3.0)
        y = torch.randint(0, c, (b,), generator=torch.Generator().manual_seed(i))
        cases.append(Case(args=(s, te, y, t, a), check=_kd_check((s, te, y, t, a)),
                          label=f"{b}x{c} logits, {label}"))
    same = _randn(4, 10, seed=99)
    args = (same, same.clone(), torch.arange(4), 3.0, 1.0)
    cases.append(Case(args=args, check=_kd_check(args),
                      label="student == teacher, alpha=1 (must be 0)"))
    return run_check("Exercise 1 · kd_loss", fn, cases,
                     hint="soften both with /T; the KL weighs log-ratios by the *teacher's* "
                          "probabilities; average over examples (not classes); multiply the "
                          "KL by T² and alpha, the cross-entropy (at T=1) by 1 - alpha.")


def _fake_quant_reference(x: torch.Tensor, bits: int) -> torch.Tensor:
    return compression.fake_quantize(x, bits, symmetric=False)


def check_fake_quantize(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Exercise 2: asymmetric per-tensor quantize -> dequantize with min/max calibration."""
    cases = [Case(args=(_randn(50, seed=0), 8), label="50 normal values, 8 bits"),
             Case(args=(_randn(64, seed=1, scale=3.0), 4), label="64 values, 4 bits"),
             Case(args=(_randn(40, seed=2).abs() + 1.0, 4),
                  label="all values in [1, 4]: zero must stay representable"),
             Case(args=(-_randn(30, seed=3).abs() - 0.5, 3), label="all negative, 3 bits"),
             Case(args=(_randn(8, 16, seed=4), 2), label="a (8, 16) weight matrix, 2 bits"),
             Case(args=(torch.tensor([-1.0, 0.0, 0.37, 2.0]), 8),
                  label="tensor([-1, 0, 0.37, 2]), 8 bits")]
    return run_check("Exercise 2 · fake_quantize", fn, cases, reference=_fake_quant_reference,
                     atol=1e-6, rtol=1e-5,
                     hint="widen [min, max] to include 0; 2^b − 1 steps between them give the "
                          "scale; the zero point is the integer that 0.0 maps to; round, clamp "
                          "to [0, 2^b − 1], then map back with scale·(q − zero_point).")


def _pruned_models() -> list[tuple[nn.Module, str]]:
    models = []
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    models.append((mlp, "unpruned MLP (10-20-5)"))
    torch.manual_seed(1)
    hooked = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    prune.l1_unstructured(hooked[0], "weight", amount=0.5)
    prune.l1_unstructured(hooked[2], "weight", amount=0.2)
    models.append((hooked, "l1_unstructured 50 % / 20 %, masks still attached"))
    torch.manual_seed(2)
    glob = compression.ResidualMLP(compression.MLPConfig(d_model=16, d_hidden=32, n_blocks=2))
    compression.magnitude_prune(glob, 0.8)
    models.append((glob, "ResidualMLP, global 80 % pruning (hooks attached)"))
    torch.manual_seed(3)
    baked = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 4))
    prune.random_unstructured(baked[0], "weight", amount=0.25)
    prune.remove(baked[0], "weight")
    with torch.no_grad():
        baked[1].bias.zero_()
    models.append((baked, "pruning made permanent (prune.remove), zero biases"))
    torch.manual_seed(4)
    structured = nn.Sequential(nn.Linear(6, 12), nn.LayerNorm(12), nn.Linear(12, 3))
    prune.ln_structured(structured[0], "weight", amount=0.5, n=2, dim=0)
    models.append((structured, "ln_structured: half the rows of the first layer"))
    return models


def _same_fraction(got: object, expected: float) -> tuple[bool, str]:
    """Exact fraction of zeros, with the reason for the usual slips."""
    if isinstance(got, torch.Tensor):
        return False, "expected a Python float, got a tensor (use .item() or int(...) / total)"
    if not isinstance(got, (float, int)) or isinstance(got, bool):
        return False, f"expected a float, got {type(got).__name__}"
    got = float(got)
    if abs(got - expected) < 1e-9:
        return True, ""
    if got > 1.0:
        return False, "a fraction in [0, 1], not a percentage"
    if abs(got - (1.0 - expected)) < 1e-9:
        return False, "that is the share of non-zero weights (the density), not of zeros"
    return False, (f"off by {got - expected:+.4g}: count zeros in module.weight of every "
                   f"nn.Linear, and divide by the total number of those weights")


def check_sparsity(fn: Callable[[nn.Module], float]) -> CheckResult:
    """Exercise 3: fraction of zeros among the weights of all nn.Linear layers."""
    cases = [Case(args=(model,), label=label) for model, label in _pruned_models()]
    return run_check("Exercise 3 · sparsity", fn, cases, reference=compression.sparsity,
                     atol=1e-9, rtol=0,
                     comparator=_same_fraction,
                     hint="a fraction in [0, 1]; only nn.Linear weights (no biases, no "
                          "LayerNorm); read module.weight -- with pruning hooks attached the "
                          "parameter is weight_orig (dense) and module.weight is the masked "
                          "tensor.")


def _shrink_reference(fc1: nn.Linear, fc2: nn.Linear, amount: float
                      ) -> tuple[nn.Linear, nn.Linear]:
    keep = compression.select_channels(fc1.weight, amount, n=2)
    return compression.shrink_ffn(fc1, fc2, keep)


def _linear_pair(seed: int, d: int, h: int, out: int) -> tuple[nn.Linear, nn.Linear]:
    torch.manual_seed(seed)
    fc1, fc2 = nn.Linear(d, h), nn.Linear(h, out)
    with torch.no_grad():  # rows with few large or many small entries: L1 and L2 rank differently
        fc1.weight.mul_(torch.rand(h, 1) * 2)
        fc1.weight[:, : d // 2].mul_(torch.rand(h, 1) * 3)
    return fc1, fc2


def _pair_mismatch(got: object, fc1: nn.Linear, fc2: nn.Linear, keep: list[int],
                   expected: tuple[nn.Linear, nn.Linear]) -> str | None:
    """None if ``got`` equals ``expected``, else what differs, in the learner's terms."""
    if not (isinstance(got, (tuple, list)) and len(got) == 2
            and all(isinstance(m, nn.Linear) for m in got)):
        return "return a pair (new_fc1, new_fc2) of nn.Linear layers"
    new1, new2 = got
    h, n_keep = fc1.out_features, len(keep)
    if new1.weight.shape != expected[0].weight.shape:
        return (f"new_fc1 is Linear({new1.in_features}, {new1.out_features}), expected "
                f"Linear({fc1.in_features}, {n_keep}): remove round(amount·h) = {h - n_keep} "
                f"of the h = {h} hidden neurons (rows of fc1.weight)")
    if new2.weight.shape != expected[1].weight.shape:
        return (f"new_fc2 is Linear({new2.in_features}, {new2.out_features}), expected "
                f"Linear({n_keep}, {fc2.out_features}): fc2 loses the same hidden neurons, "
                f"which are its *columns* (inputs)")
    rows = fc1.weight.detach()
    kept = []
    for row in new1.weight.detach():  # which original neuron does each new row come from?
        match = [j for j in range(h) if torch.allclose(row, rows[j], atol=1e-7)]
        kept.append(match[0] if match else None)
    if kept != keep:
        if None in kept:
            return "new_fc1's rows are not rows of fc1.weight (copy them, do not re-initialise)"
        if sorted(kept) == keep:
            return f"right neurons, wrong order: you kept {kept}; keep their original order {keep}"
        return (f"you kept neurons {kept}, expected {keep} (the largest L2 norms of fc1's rows; "
                f"check the norm, the dimension and which end of the ranking you keep)")
    checks = [(new1.bias, expected[0].bias, "new_fc1's bias must be fc1.bias[keep]"),
              (new2.weight, expected[1].weight,
               "new_fc2's weight must be fc2.weight[:, keep] (the kept columns)"),
              (new2.bias, expected[1].bias, "new_fc2's bias must be fc2's bias, unchanged")]
    for mine, ref, message in checks:
        if (mine is None) != (ref is None) or (ref is not None and not torch.allclose(
                mine.detach(), ref.detach(), atol=1e-7)):
            return message
    return None


def check_shrink_ffn(fn: Callable[..., tuple[nn.Linear, nn.Linear]]) -> CheckResult:
    """Exercise 4: keep the neurons with the largest L2 row norm of fc1; rebuild both layers."""
    cases = []
    for i, (d, h, out, amount) in enumerate([(4, 6, 3, 0.5), (8, 16, 8, 0.25),
                                             (16, 32, 16, 0.75), (5, 10, 2, 0.3),
                                             (6, 12, 4, 0.2)]):  # 0.8·12 = 9.6: int() != round
        fc1, fc2 = _linear_pair(i, d, h, out)
        cases.append(Case(args=(fc1, fc2, amount), check=_pair_check(fc1, fc2, amount),
                          label=f"fc1 {d}->{h}, fc2 {h}->{out}, amount={amount}"))
    return run_check("Exercise 4 · shrink_ffn", fn, cases,
                     hint="rank fc1's rows (one per hidden neuron) by their L2 norm; remove the "
                          "round(amount·h) smallest, keep the others in their original order; "
                          "fc1 keeps those rows and bias entries, fc2 keeps those *columns* (and "
                          "all its bias).")


def _pair_check(fc1: nn.Linear, fc2: nn.Linear, amount: float
                ) -> Callable[[object], tuple[bool, str]]:
    expected = _shrink_reference(fc1, fc2, amount)
    keep = compression.select_channels(fc1.weight, amount).tolist()

    def check(got: object) -> tuple[bool, str]:
        text = (f"Linear({expected[0].in_features}, {expected[0].out_features}) and "
                f"Linear({expected[1].in_features}, {expected[1].out_features}) keeping "
                f"neurons {keep}")
        reason = _pair_mismatch(got, fc1, fc2, keep, expected)
        # (Case.check reports no separate reason: it goes under the expected value)
        return reason is None, text if reason is None else f"{text}\n   what differs: {reason}"

    return check


def _dark_knowledge_reference(logits: torch.Tensor, temperature: float) -> float:
    probs = compression.soft_targets(logits, temperature)
    return float((1.0 - probs.max(dim=-1).values).mean())


def _same_direction(got: object, expected: str) -> tuple[bool, str]:
    """A prediction is "up" or "down" (case and spaces ignored)."""
    if not isinstance(got, str) or got.strip().lower() not in ("up", "down"):
        return False, 'predict() must return the string "up" or "down"'
    return got.strip().lower() == expected, ""


def check_temperature_experiment(fn: Callable[[torch.Tensor, float], float],
                                 predict: Callable[[], str],
                                 teacher_logits: torch.Tensor) -> CheckResult:
    """Exercise 5 (experiment): dark-knowledge mass vs temperature on the real teacher.

    ``fn(logits, T)`` returns the mean probability outside the top class at T;
    ``predict()`` returns the learner's guess ("up" or "down") for T = 1 -> 2 -> 5, made
    before measuring. The measurement runs on ``teacher_logits`` and must rise.
    """
    cases = [Case(args=(_randn(6, 10, seed=i, scale=4.0), t), label=f"6x10 logits, T={t}")
             for i, t in enumerate((1.0, 2.0, 5.0, 0.5))]
    result = run_check("Exercise 5 · dark_knowledge", fn, cases,
                       reference=_dark_knowledge_reference, atol=1e-5, rtol=1e-4,
                       hint="softmax(logits / T) per example; 1 minus its largest entry is "
                            "the mass on the *other* classes; average over examples.")
    if not result.ok:
        return result
    measured = [float(fn(teacher_logits, t)) for t in (1.0, 2.0, 5.0)]
    direction = "up" if measured[0] < measured[1] < measured[2] else "not monotone"
    label = (f"measured on the teacher: T=1 {measured[0]:.3f}, T=2 {measured[1]:.3f}, "
             f"T=5 {measured[2]:.3f}")
    print(f"   {label}")
    return run_check("Exercise 5 · your prediction", predict, [Case(label=label,
                                                                     expected=direction)],
                     comparator=_same_direction,
                     hint="compare your prediction with the three measured values: does "
                          "softening move probability towards the other classes or away?")
