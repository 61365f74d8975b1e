"""Chapter 10: course_utils.compression -- distillation loss, pruning, quantization, measuring."""

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from course_utils import compression as cz
from course_utils.models import count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")


# --- distillation --------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [1.0, 2.0, 5.0])
def test_kd_loss_matches_kl_div_formulations(temperature):
    torch.manual_seed(0)
    s, t = 3 * torch.randn(16, 10), 3 * torch.randn(16, 10)
    y = torch.randint(0, 10, (16,))
    reference = F.kl_div(F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1),
                         log_target=True, reduction="batchmean") * temperature ** 2
    source_form = F.kl_div(F.log_softmax(s / temperature, -1), F.softmax(t / temperature, -1),
                           reduction="batchmean") * temperature ** 2
    ours = cz.kd_loss(s, t, temperature=temperature, alpha=1.0)
    assert torch.allclose(ours, reference, atol=1e-5)
    assert torch.allclose(source_form, reference, atol=1e-5)
    mixed = cz.kd_loss(s, t, y, temperature, alpha=0.3)
    assert torch.allclose(mixed, 0.3 * reference + 0.7 * F.cross_entropy(s, y), atol=1e-5)
    assert torch.allclose(cz.kd_loss(s, t, y, temperature, alpha=0.0), F.cross_entropy(s, y))


def test_kd_loss_is_zero_when_student_equals_teacher_and_gradient_scales_as_1_over_t2():
    torch.manual_seed(1)
    t = torch.randn(8, 10)
    assert cz.kd_loss(t.clone(), t, temperature=3.0, alpha=1.0).abs() < 1e-6
    norms = []
    for temperature in (8.0, 16.0):
        z = torch.randn(8, 10, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
        loss = cz.kd_loss(z, t, temperature=temperature, alpha=1.0) / temperature ** 2  # plain KL
        (grad,) = torch.autograd.grad(loss, z)
        norms.append(grad.norm().item())
    assert 0.2 < norms[1] / norms[0] < 0.3  # ~1/T² for large T


def test_kd_loss_does_not_backpropagate_into_the_teacher_and_validates_inputs():
    s, t = torch.randn(4, 3, requires_grad=True), torch.randn(4, 3, requires_grad=True)
    cz.kd_loss(s, t, torch.zeros(4, dtype=torch.long), 2.0, 0.5).backward()
    assert s.grad is not None and t.grad is None
    with pytest.raises(ValueError, match="same shape"):
        cz.kd_loss(torch.randn(4, 3), torch.randn(4, 5), alpha=1.0)
    with pytest.raises(ValueError, match="labels are needed"):
        cz.kd_loss(torch.randn(4, 3), torch.randn(4, 3), None, alpha=0.5)
    with pytest.raises(ValueError):
        cz.kd_loss(torch.randn(4, 3), torch.randn(4, 3), temperature=0.0, alpha=1.0)


def test_soft_targets_flatten_with_temperature():
    logits = torch.tensor([[4.0, 1.0, 0.0]])
    p1, p5 = cz.soft_targets(logits, 1.0), cz.soft_targets(logits, 5.0)
    assert torch.allclose(p1.sum(-1), torch.ones(1)) and p5.max() < p1.max()


def test_init_from_teacher_copies_every_other_block():
    torch.manual_seed(0)
    teacher = cz.ResidualMLP(cz.MLPConfig(d_model=16, d_hidden=32, n_blocks=4))
    student = cz.init_from_teacher(cz.ResidualMLP(cz.MLPConfig(d_model=16, d_hidden=32,
                                                                n_blocks=2)), teacher)
    for mine, theirs in zip(student.blocks, (teacher.blocks[0], teacher.blocks[2])):
        assert all(torch.equal(a, b) for a, b in zip(mine.state_dict().values(),
                                                      theirs.state_dict().values()))
    assert torch.equal(student.head.weight, teacher.head.weight)
    with pytest.raises(ValueError, match="same widths"):
        cz.init_from_teacher(cz.ResidualMLP(cz.MLPConfig(d_model=8, n_blocks=2)), teacher)


# --- pruning -------------------------------------------------------------------------------
def test_sparsity_reads_masked_weights_and_counts_parameters():
    torch.manual_seed(0)
    model = cz.ResidualMLP(cz.MLPConfig(d_model=16, d_hidden=32, n_blocks=2))
    assert cz.sparsity(model) == 0.0
    cz.magnitude_prune(model, 0.75)
    assert abs(cz.sparsity(model) - 0.75) < 1e-3
    total = count_parameters(model)
    assert total == sum(p.numel() for p in cz.ResidualMLP(model.config).parameters())
    assert cz.count_nonzero(model) < total
    size_masked = cz.state_dict_bytes(model)
    cz.make_permanent(model)
    assert abs(cz.sparsity(model) - 0.75) < 1e-3
    assert not any(k.endswith(("_orig", "_mask")) for k in model.state_dict())
    assert cz.state_dict_bytes(model) < size_masked  # the mask doubled the weights


def test_select_channels_matches_ln_structured():
    torch.manual_seed(0)
    for amount in (0.25, 0.5, 0.7):
        layer = nn.Linear(12, 20)
        prune.ln_structured(layer, "weight", amount=amount, n=2, dim=0)
        keep = layer.weight_mask.any(1).nonzero().flatten()
        assert torch.equal(cz.select_channels(layer.weight_orig, amount), keep)


def test_rebuilt_model_equals_masked_model_and_is_smaller_and_traceable():
    torch.manual_seed(0)
    model = cz.ResidualMLP(cz.MLPConfig(d_model=16, d_hidden=32, n_blocks=3))
    with torch.no_grad():  # biases that matter: the fold must carry them
        for block in model.blocks:
            block.fc1.bias.uniform_(0.1, 0.5)
    for block in model.blocks:
        prune.ln_structured(block.fc1, "weight", amount=0.5, n=2, dim=0)
    rebuilt = cz.rebuild_pruned_ffns(model)
    x = torch.randn(5, 1, 8, 8)
    assert torch.allclose(rebuilt(x), model(x), atol=1e-5)
    assert rebuilt.blocks[0].fc1.out_features == 16 and rebuilt.config.d_hidden == 16
    assert cz.state_dict_bytes(rebuilt) < cz.state_dict_bytes(model)
    assert count_parameters(rebuilt) < count_parameters(model)
    torch.fx.symbolic_trace(rebuilt)  # static quantization needs a traceable model


def test_effective_state_dict_loads_into_an_unpruned_copy():
    torch.manual_seed(0)
    model = cz.ResidualMLP(cz.MLPConfig(d_model=8, d_hidden=16, n_blocks=1))
    cz.magnitude_prune(model, 0.5)
    plain = cz.ResidualMLP(model.config)
    plain.load_state_dict(cz.effective_state_dict(model))
    x = torch.randn(3, 64)
    assert torch.equal(plain(x), model(x))


def _bert(layers=2, heads=4, width=32):
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=width, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=2 * width,
                        max_position_embeddings=16, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    return BertModel(config).eval()


def test_prune_bert_heads_equals_zeroing_the_heads_outputs():
    model = _bert()
    ids = torch.randint(0, 50, (2, 7))
    reference = copy.deepcopy(model)
    size = reference.config.hidden_size // reference.config.num_attention_heads
    # removing head 1 of layer 0 == zeroing its rows of the output projection's input
    with torch.no_grad():
        reference.encoder.layer[0].attention.output.dense.weight[:, size:2 * size] = 0
    before = count_parameters(model)
    cz.prune_bert_heads(model, {0: [1]})
    attention = model.encoder.layer[0].attention
    assert attention.self.query.out_features == 3 * size
    assert attention.output.dense.in_features == 3 * size
    assert count_parameters(model) == before - 4 * (size * 32) - 3 * size
    with torch.no_grad():
        assert torch.allclose(model(ids).last_hidden_state, reference(ids).last_hidden_state,
                              atol=1e-5)
    with pytest.raises(ValueError, match="cannot remove all"):
        cz.prune_bert_heads(model, {1: [0, 1, 2, 3]})


def test_drop_bert_layers_keeps_the_chosen_layers():
    model = _bert(layers=3)
    small = cz.drop_bert_layers(model, [0, 2])
    assert len(small.encoder.layer) == 2 and small.config.num_hidden_layers == 2
    assert len(model.encoder.layer) == 3  # the original is untouched
    assert torch.equal(small.encoder.layer[1].output.dense.weight,
                       model.encoder.layer[2].output.dense.weight)
    with torch.no_grad():
        small(torch.randint(0, 50, (1, 5)))


# --- quantization --------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_affine_quantization_equals_torch_observer_and_quantize_per_tensor(seed):
    from torch.ao.quantization.observer import MinMaxObserver

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2000, generator=g) * (0.1 + seed) + 0.3 * (seed - 2)
    scale, zero_point, q_min, q_max = cz.affine_qparams(x.min(), x.max(), bits=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        observer = MinMaxObserver(dtype=torch.quint8)
        observer(x)
        torch_scale, torch_zero = observer.calculate_qparams()
        torch_q = torch.quantize_per_tensor(x, float(torch_scale), int(torch_zero), torch.quint8)
    assert scale == float(torch_scale) and zero_point == int(torch_zero)
    q = cz.quantize(x, scale, zero_point, q_min, q_max)
    assert torch.equal(q, torch_q.int_repr().int())
    assert torch.allclose(cz.dequantize(q, scale, zero_point), torch_q.dequantize())
    assert (cz.dequantize(q, scale, zero_point) - x).abs().max() <= scale / 2 + 1e-6


def test_fake_quantize_error_shrinks_with_bits_and_zero_is_exact():
    torch.manual_seed(0)
    x = torch.randn(1000)
    errors = [(cz.fake_quantize(x, bits) - x).norm().item() for bits in (2, 4, 8)]
    assert errors[0] > errors[1] > errors[2]
    positive = torch.rand(100) + 1.0
    assert 0.0 in cz.fake_quantize(torch.cat([positive, torch.zeros(1)]), 4).tolist()
    scale, zero_point, q_min, q_max = cz.affine_qparams(-1.0, 3.0, 8, symmetric=True)
    assert zero_point == 0 and (q_min, q_max) == (-127, 127) and scale == pytest.approx(3 / 127)


def test_dynamic_quantization_shrinks_the_checkpoint():
    from torch.ao.quantization import quantize_dynamic

    torch.manual_seed(0)
    model = cz.ResidualMLP(cz.MLPConfig()).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = quantize_dynamic(copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)
    assert cz.state_dict_bytes(small) < 0.35 * cz.state_dict_bytes(model)
    x = torch.randn(4, 1, 8, 8)
    assert (small(x) - model(x)).abs().max() < 0.1


def test_measure_latency_returns_positive_medians_for_every_model():
    models = {"a": nn.Linear(8, 8), "b": nn.Sequential(nn.Linear(8, 64), nn.Linear(64, 8))}
    for clock in ("cpu", "wall"):
        timing = cz.measure_latency(models, torch.randn(2, 8), repeats=5, warmup=1, clock=clock)
        assert set(timing) == {"a", "b"} and all(v >= 0 for v in timing.values())
    with pytest.raises(ValueError, match="clock"):
        cz.measure_latency(models, torch.randn(2, 8), clock="gpu")


def test_quantize_dynamic_swaps_children_only():
    """The trap chapter 10 shows: a bare Linear comes back fp32; wrapped, it is replaced."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bare = quantize_dynamic(nn.Linear(16, 16), {nn.Linear}, dtype=torch.qint8)
        wrapped = quantize_dynamic(nn.Sequential(nn.Linear(16, 16)), {nn.Linear},
                                   dtype=torch.qint8)
    assert not isinstance(bare, DynamicQuantizedLinear) and type(bare) is nn.Linear
    assert isinstance(wrapped[0], DynamicQuantizedLinear)
