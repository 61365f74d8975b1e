"""Chapter 10 checkers: the solutions pass, plausible wrong answers fail, stubs say ⏳."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import compression as cz
from course_utils.checking import FAILED, NOT_ATTEMPTED, PASSED
from course_utils.exercises import ch10

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("COURSE_EXPECT_SOLVED", raising=False)


def stub(*args, **kwargs):
    raise NotImplementedError


# --- Exercise 1: kd_loss -------------------------------------------------------------------
def kd_right(s, t, y, temperature, alpha):
    log_q, log_p = F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    return alpha * temperature ** 2 * kl + (1 - alpha) * F.cross_entropy(s, y)


def kd_no_t2(s, t, y, temperature, alpha):
    log_q, log_p = F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    return alpha * kl + (1 - alpha) * F.cross_entropy(s, y)


def kd_reversed_kl(s, t, y, temperature, alpha):
    log_q, log_p = F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1)
    kl = (log_q.exp() * (log_q - log_p)).sum(-1).mean()      # KL(student || teacher)
    return alpha * temperature ** 2 * kl + (1 - alpha) * F.cross_entropy(s, y)


def kd_mean_reduction(s, t, y, temperature, alpha):
    log_q, p = F.log_softmax(s / temperature, -1), F.softmax(t / temperature, -1)
    kl = F.kl_div(log_q, p, reduction="mean")                 # divides by B * C
    return alpha * temperature ** 2 * kl + (1 - alpha) * F.cross_entropy(s, y)


def kd_teacher_not_softened(s, t, y, temperature, alpha):
    log_q, p = F.log_softmax(s / temperature, -1), F.softmax(t, -1)
    kl = (p * (p.log() - log_q)).sum(-1).mean()
    return alpha * temperature ** 2 * kl + (1 - alpha) * F.cross_entropy(s, y)


def kd_ce_softened(s, t, y, temperature, alpha):            # the CE term at T, not at 1
    log_q, log_p = F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    return alpha * temperature ** 2 * kl + (1 - alpha) * F.cross_entropy(s / temperature, y)


def kd_soft_cross_entropy(s, t, y, temperature, alpha):     # H(p, q) = KL + H(p): not 0 at q = p
    log_q, p = F.log_softmax(s / temperature, -1), F.softmax(t / temperature, -1)
    return (alpha * temperature ** 2 * -(p * log_q).sum(-1).mean()
            + (1 - alpha) * F.cross_entropy(s, y))


def kd_swapped_alpha(s, t, y, temperature, alpha):
    log_q, log_p = F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    return (1 - alpha) * temperature ** 2 * kl + alpha * F.cross_entropy(s, y)


def kd_per_example(s, t, y, temperature, alpha):             # forgot the batch mean
    log_q, log_p = F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1)
    return alpha * temperature ** 2 * kl + (1 - alpha) * F.cross_entropy(s, y, reduction="none")


def test_kd_loss_checker():
    assert ch10.check_kd_loss(kd_right).status == PASSED
    assert ch10.check_kd_loss(lambda *a: cz.kd_loss(*a)).status == PASSED
    assert ch10.check_kd_loss(lambda *a: kd_right(*a).item()).status == PASSED
    for wrong in (kd_no_t2, kd_reversed_kl, kd_mean_reduction, kd_teacher_not_softened,
                  kd_ce_softened, kd_soft_cross_entropy, kd_swapped_alpha, kd_per_example):
        result = ch10.check_kd_loss(wrong)
        assert result.status == FAILED, wrong.__name__
        assert "expected" in result.message and "Hint" in result.message
    assert ch10.check_kd_loss(stub).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, says", [
    (kd_no_t2, "not multiplied by T²"), (kd_reversed_kl, "KL(student ‖ teacher)"),
    (kd_mean_reduction, "reduction='mean'"), (kd_teacher_not_softened, "teacher is not softened"),
    (kd_ce_softened, "softened logits"), (kd_soft_cross_entropy, "soft cross-entropy"),
    (kd_swapped_alpha, "swapped"), (kd_per_example, "average over the batch")])
def test_kd_loss_checker_names_the_mistake(wrong, says):
    result = ch10.check_kd_loss(wrong)
    assert says in result.message, result.message


# --- Exercise 2: fake_quantize -------------------------------------------------------------
def fq_right(x, bits):
    lo, hi = min(x.min().item(), 0.0), max(x.max().item(), 0.0)
    q_max = 2 ** bits - 1
    scale = (hi - lo) / q_max
    zero_point = round(-lo / scale)
    return scale * (torch.clamp(torch.round(x / scale) + zero_point, 0, q_max) - zero_point)


def fq_symmetric(x, bits):
    scale = x.abs().max() / (2 ** (bits - 1) - 1)
    return scale * torch.round(x / scale)


def fq_range_without_zero(x, bits):
    lo, hi = x.min().item(), x.max().item()                   # 0 not forced into the range
    scale = (hi - lo) / (2 ** bits - 1)
    return lo + scale * torch.round((x - lo) / scale)


def fq_floor(x, bits):
    lo, hi = min(x.min().item(), 0.0), max(x.max().item(), 0.0)
    q_max = 2 ** bits - 1
    scale = (hi - lo) / q_max
    zero_point = round(-lo / scale)
    return scale * (torch.clamp(torch.floor(x / scale) + zero_point, 0, q_max) - zero_point)


def fq_2_to_b_levels(x, bits):
    lo, hi = min(x.min().item(), 0.0), max(x.max().item(), 0.0)
    scale = (hi - lo) / 2 ** bits                             # off by one step
    zero_point = round(-lo / scale)
    return scale * (torch.clamp(torch.round(x / scale) + zero_point, 0, 2 ** bits - 1) - zero_point)


def fq_grid_from_min(x, bits):                               # range widened, grid anchored at min
    lo, hi = min(x.min().item(), 0.0), max(x.max().item(), 0.0)
    scale = (hi - lo) / (2 ** bits - 1)
    return lo + scale * torch.round((x - lo) / scale)


def fq_per_row(x, bits):                                      # per channel, not per tensor
    return torch.stack([cz.fake_quantize(r, bits) for r in x]) if x.ndim == 2 else \
        cz.fake_quantize(x, bits)


def fq_signed_range(x, bits):          # q in [-2^(b-1), 2^(b-1) - 1]: the same grid, so right
    lo, hi = min(x.min().item(), 0.0), max(x.max().item(), 0.0)
    q_min, q_max = -2 ** (bits - 1), 2 ** (bits - 1) - 1
    scale = (hi - lo) / (q_max - q_min)
    zero_point = q_min - round(lo / scale)
    return scale * (torch.clamp(torch.round(x / scale) + zero_point, q_min, q_max) - zero_point)


def test_fake_quantize_checker():
    assert ch10.check_fake_quantize(fq_right).status == PASSED
    assert ch10.check_fake_quantize(fq_signed_range).status == PASSED
    for wrong in (fq_symmetric, fq_range_without_zero, fq_floor, fq_2_to_b_levels,
                  fq_grid_from_min, fq_per_row):
        assert ch10.check_fake_quantize(wrong).status == FAILED, wrong.__name__
    assert ch10.check_fake_quantize(stub).status == NOT_ATTEMPTED


# --- Exercise 3: sparsity ------------------------------------------------------------------
def sparsity_right(model):
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    return sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)


def sparsity_from_parameters(model):                          # sees weight_orig, not the mask
    params = [p for n, p in model.named_parameters() if "weight" in n and p.ndim == 2]
    return sum(int((p == 0).sum()) for p in params) / sum(p.numel() for p in params)


def sparsity_with_biases(model):
    tensors = [t for m in model.modules() if isinstance(m, nn.Linear) for t in (m.weight, m.bias)]
    return sum(int((t == 0).sum()) for t in tensors) / sum(t.numel() for t in tensors)


def sparsity_percent(model):
    return 100 * sparsity_right(model)


def sparsity_mean_of_layers(model):                           # unweighted mean over layers
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    return sum(float((w == 0).float().mean()) for w in weights) / len(weights)


def test_sparsity_checker():
    assert ch10.check_sparsity(sparsity_right).status == PASSED
    for wrong in (sparsity_from_parameters, sparsity_with_biases, sparsity_percent,
                  sparsity_mean_of_layers):
        assert ch10.check_sparsity(wrong).status == FAILED, wrong.__name__
    assert ch10.check_sparsity(stub).status == NOT_ATTEMPTED
    assert "density" in ch10.check_sparsity(lambda m: 1 - sparsity_right(m)).message
    assert "percentage" in ch10.check_sparsity(sparsity_percent).message


# --- Exercise 4: shrink_ffn ----------------------------------------------------------------
def _rebuild(fc1, fc2, keep):
    new1, new2 = nn.Linear(fc1.in_features, len(keep)), nn.Linear(len(keep), fc2.out_features)
    with torch.no_grad():
        new1.weight.copy_(fc1.weight[keep])
        new1.bias.copy_(fc1.bias[keep])
        new2.weight.copy_(fc2.weight[:, keep])
        new2.bias.copy_(fc2.bias)
    return new1, new2


def _keep(scores, amount):
    n_keep = len(scores) - round(amount * len(scores))
    return scores.topk(n_keep).indices.sort().values


def shrink_right(fc1, fc2, amount):
    return _rebuild(fc1, fc2, _keep(fc1.weight.detach().norm(dim=1), amount))


def shrink_l1(fc1, fc2, amount):
    return _rebuild(fc1, fc2, _keep(fc1.weight.detach().abs().sum(dim=1), amount))


def shrink_by_fc2_columns(fc1, fc2, amount):
    return _rebuild(fc1, fc2, _keep(fc2.weight.detach().norm(dim=0), amount))


def shrink_smallest(fc1, fc2, amount):
    return _rebuild(fc1, fc2, _keep(-fc1.weight.detach().norm(dim=1), amount))


def shrink_forgets_fc2(fc1, fc2, amount):
    keep = _keep(fc1.weight.detach().norm(dim=1), amount)
    return _rebuild(fc1, fc2, keep)[0], fc2


def shrink_unsorted(fc1, fc2, amount):                        # topk order, not original order
    scores = fc1.weight.detach().norm(dim=1)
    keep = scores.topk(len(scores) - round(amount * len(scores))).indices
    return _rebuild(fc1, fc2, keep)


def shrink_truncated_count(fc1, fc2, amount):               # int((1 - amount) * h) kept
    scores = fc1.weight.detach().norm(dim=1)
    return _rebuild(fc1, fc2, scores.topk(int((1 - amount) * len(scores))).indices.sort().values)


def shrink_masks_only(fc1, fc2, amount):                     # prune.ln_structured: no rebuild
    torch.nn.utils.prune.ln_structured(fc1, "weight", amount, n=2, dim=0)
    return fc1, fc2


def shrink_drops_fc1_bias(fc1, fc2, amount):
    new1, new2 = shrink_right(fc1, fc2, amount)
    with torch.no_grad():
        new1.bias.zero_()
    return new1, new2


def test_shrink_ffn_checker():
    assert ch10.check_shrink_ffn(shrink_right).status == PASSED
    for wrong in (shrink_l1, shrink_by_fc2_columns, shrink_smallest, shrink_forgets_fc2,
                  shrink_unsorted, shrink_truncated_count, shrink_masks_only,
                  shrink_drops_fc1_bias):
        result = ch10.check_shrink_ffn(wrong)
        assert result.status == FAILED, wrong.__name__
        assert "keeping neurons" in result.message and "what differs" in result.message
    assert ch10.check_shrink_ffn(stub).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, says", [
    (shrink_l1, "you kept neurons"), (shrink_unsorted, "wrong order"),
    (shrink_truncated_count, "remove round(amount·h)"), (shrink_masks_only, "Linear(4, 6)"),
    (shrink_drops_fc1_bias, "new_fc1's bias"), (shrink_forgets_fc2, "new_fc2 is Linear(6, 3)")])
def test_shrink_ffn_checker_says_what_differs(wrong, says):
    assert says in ch10.check_shrink_ffn(wrong).message


# --- Exercise 5: temperature experiment ----------------------------------------------------
def dark_right(logits, temperature):
    return (1 - F.softmax(logits / temperature, -1).max(-1).values).mean().item()


def dark_entropy(logits, temperature):
    p = F.softmax(logits / temperature, -1)
    return -(p * p.log()).sum(-1).mean().item()


def dark_top_prob(logits, temperature):
    return F.softmax(logits / temperature, -1).max(-1).values.mean().item()


def dark_no_temperature(logits, temperature):
    return (1 - F.softmax(logits, -1).max(-1).values).mean().item()


def test_temperature_experiment_checker():
    torch.manual_seed(0)
    teacher_logits = 5 * torch.randn(50, 10)
    result = ch10.check_temperature_experiment(dark_right, lambda: "up", teacher_logits)
    assert result.status == PASSED
    assert ch10.check_temperature_experiment(dark_right, lambda: "down",
                                             teacher_logits).status == FAILED
    for wrong in (dark_entropy, dark_top_prob, dark_no_temperature):
        assert ch10.check_temperature_experiment(wrong, lambda: "up",
                                                 teacher_logits).status == FAILED, wrong.__name__
    assert ch10.check_temperature_experiment(stub, lambda: "up",
                                             teacher_logits).status == NOT_ATTEMPTED
    assert ch10.check_temperature_experiment(dark_right, stub,
                                             teacher_logits).status == NOT_ATTEMPTED
    # the prediction is a word: case and spaces do not matter, anything else is explained
    assert ch10.check_temperature_experiment(dark_right, lambda: " Up",
                                             teacher_logits).status == PASSED
    result = ch10.check_temperature_experiment(dark_right, lambda: "higher", teacher_logits)
    assert result.status == FAILED and '"up" or "down"' in result.message


def dark_runner_up(logits, temperature):                     # only the second-best class
    return F.softmax(logits / temperature, -1).topk(2, -1).values[:, 1].mean().item()


def dark_times_t(logits, temperature):                       # multiplies instead of dividing
    return (1 - F.softmax(logits * temperature, -1).max(-1).values).mean().item()


def test_temperature_experiment_checker_rejects_other_measures():
    teacher_logits = 5 * torch.randn(50, 10, generator=torch.Generator().manual_seed(0))
    for wrong in (dark_runner_up, dark_times_t):
        assert ch10.check_temperature_experiment(wrong, lambda: "up",
                                                 teacher_logits).status == FAILED, wrong.__name__
