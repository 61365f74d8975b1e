"""Chapter 09: from-scratch optimizers vs torch.optim, LAMB, memory bookkeeping, tiny model."""

import pytest
import torch
from torch import nn

from course_utils import optim as O
from course_utils.models.tiny import TinyTransformer, TinyTransformerConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def _train(make_opt, steps=100, dtype=torch.float32):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3)).to(dtype)
    x, y = torch.randn(64, 5, dtype=dtype), torch.randn(64, 3, dtype=dtype)
    opt = make_opt(net.parameters())
    for _ in range(steps):
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in net.parameters()]), opt


PARITY = [
    (O.SGD, torch.optim.SGD, dict(lr=0.1)),
    (O.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, weight_decay=1e-2)),
    (O.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (O.RMSProp, torch.optim.RMSprop, dict(lr=1e-2, alpha=0.9, weight_decay=1e-3)),
    (O.Adam, torch.optim.Adam, dict(lr=1e-2)),
    (O.Adam, torch.optim.Adam, dict(lr=1e-2, betas=(0.8, 0.95), weight_decay=0.1)),
    (O.AdamW, torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1)),
    (O.AdamW, torch.optim.AdamW, dict(lr=3e-3)),
]


@pytest.mark.parametrize("ours, ref, kwargs", PARITY,
                         ids=[f"{a.__name__}-{i}" for i, (a, _, _) in enumerate(PARITY)])
def test_parity_with_torch_optim_after_100_steps(ours, ref, kwargs):
    mine, _ = _train(lambda p: ours(p, **kwargs))
    theirs, _ = _train(lambda p: ref(p, **kwargs))
    assert (mine - theirs).abs().max().item() <= 1e-6


def test_adamw_default_weight_decay_matches_torch():
    assert O.AdamW([nn.Parameter(torch.zeros(1))]).defaults["weight_decay"] == \
        torch.optim.AdamW([nn.Parameter(torch.zeros(1))]).defaults["weight_decay"]


def test_lamb_without_adaptation_is_adamw():
    mine, _ = _train(lambda p: O.LAMB(p, lr=1e-2, weight_decay=0.1, eps=1e-8, adapt=False),
                     dtype=torch.float64)
    theirs, _ = _train(lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1),
                       dtype=torch.float64)
    assert (mine - theirs).abs().max().item() <= 1e-10


def test_lamb_step_is_lr_times_weight_norm_per_tensor():
    torch.manual_seed(1)
    w = nn.Parameter(torch.randn(6, 4))
    before = w.detach().clone()
    opt = O.LAMB([w], lr=0.01, weight_decay=0.0, max_trust_ratio=1e9)
    w.grad = torch.randn(6, 4)
    opt.step()
    step_norm = (w.detach() - before).norm().item()
    assert step_norm == pytest.approx(0.01 * before.norm().item(), rel=1e-5)
    ratios = O.trust_ratios(opt, {w: "w"})
    assert set(ratios) == {"w"} and ratios["w"] > 0


def test_lamb_trust_ratio_rules():
    zero = nn.Parameter(torch.zeros(3))  # a fresh bias: ratio 1, not 0
    big = nn.Parameter(100 * torch.ones(3))
    opt = O.LAMB([zero, big], lr=1e-3, max_trust_ratio=5.0)
    zero.grad, big.grad = torch.ones(3), torch.ones(3)
    opt.step()
    ratios = O.trust_ratios(opt)
    assert ratios["param0"] == 1.0
    assert ratios["param1"] == 5.0  # ||w|| / ||u|| is huge: clipped
    assert not torch.equal(zero.detach(), torch.zeros(3))


def test_optimizers_skip_params_without_grad_and_support_closure():
    a, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
    for cls in (O.SGD, O.RMSProp, O.Adam, O.AdamW, O.LAMB):
        opt = cls([a, b], lr=0.1)
        a.grad, b.grad = torch.ones(2), None

        def closure():
            return torch.tensor(3.0)

        assert opt.step(closure).item() == 3.0
        assert torch.equal(b.detach(), torch.ones(2))


def test_state_dict_round_trip():
    _, opt = _train(lambda p: O.LAMB(p, lr=1e-3), steps=3)
    clone = O.LAMB([p for g in opt.param_groups for p in g["params"]], lr=1e-3)
    clone.load_state_dict(opt.state_dict())
    assert clone.state_dict()["state"][0]["step"] == 3


@pytest.mark.parametrize("call, message", [
    (lambda p: O.SGD(p, lr=-1.0), "lr must be >= 0.0, got -1.0"),
    (lambda p: O.SGD(p, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda p: O.Adam(p, betas=(0.9, 1.0)), "beta2 must be < 1, got 1.0"),
    (lambda p: O.Adam(p, betas=(0.9,)), "betas must be a pair"),
    (lambda p: O.AdamW(p, weight_decay=-0.1), "weight_decay must be >= 0.0, got -0.1"),
    (lambda p: O.RMSProp(p, alpha=1.5), "alpha must be <= 1.0, got 1.5"),
    (lambda p: O.LAMB(p, max_trust_ratio=0), "max_trust_ratio must be > 0.0, got 0.0"),
    (lambda p: O.LAMB(p, lr="big"), "lr must be int or float, got str"),
])
def test_bad_arguments_name_expected_and_given(call, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(")
                       .replace(")", r"\)").replace("+", r"\+")):
        call([nn.Parameter(torch.zeros(1))])


def test_trust_ratios_needs_lamb():
    with pytest.raises(TypeError, match="must be a course_utils.optim.LAMB, got Adam"):
        O.trust_ratios(torch.optim.Adam([nn.Parameter(torch.zeros(1))]))


def test_state_bytes_counts_adam_moments():
    _, sgd = _train(lambda p: torch.optim.SGD(p, lr=0.1), steps=1)
    _, adam = _train(lambda p: O.Adam(p), steps=1)
    n = sum(p.numel() for g in adam.param_groups for p in g["params"])
    assert O.state_bytes(sgd) == 0
    assert O.state_bytes(adam) == 2 * 4 * n  # m and v in fp32 (the step count is an int)
    with pytest.raises(TypeError, match="torch.optim.Optimizer, got str"):
        O.state_bytes("adam")


def test_bytes_per_parameter():
    assert O.bytes_per_parameter("sgd")["total"] == 8
    assert O.bytes_per_parameter("sgd_momentum")["total"] == 12
    assert O.bytes_per_parameter("adam")["total"] == 16
    assert O.bytes_per_parameter("adamw", mixed_precision=True) == {
        "weights": 2, "grads": 2, "master_weights": 4, "optimizer_state": 8, "total": 16}
    with pytest.raises(ValueError, match="optimizer must be one of"):
        O.bytes_per_parameter("adagrad")


@pytest.mark.parametrize("norm_first, causal, n_classes", [(True, True, None), (False, True, None),
                                                           (False, False, 2)])
def test_tiny_transformer_shapes_and_causality(norm_first, causal, n_classes):
    torch.manual_seed(0)
    cfg = TinyTransformerConfig(vocab_size=11, n_positions=8, n_embd=16, n_layer=2, n_head=2,
                                norm_first=norm_first, causal=causal, n_classes=n_classes,
                                pad_id=0 if n_classes else None)
    model = TinyTransformer(cfg).eval()
    ids = torch.randint(1, 11, (3, 8))
    out = model(ids)
    assert out.shape == ((3, 8, 11) if n_classes is None else (3, 2))
    if causal:  # changing the last token must not change earlier positions
        changed = ids.clone()
        changed[:, -1] = (changed[:, -1] % 10) + 1
        assert torch.allclose(model(changed)[:, :-1], out[:, :-1], atol=1e-5)
    assert isinstance(model.ln_f, nn.LayerNorm) == norm_first


def test_tiny_transformer_classifier_ignores_padding():
    torch.manual_seed(0)
    cfg = TinyTransformerConfig(vocab_size=9, n_positions=6, n_embd=8, n_layer=1, n_head=2,
                                causal=False, n_classes=3, pad_id=0)
    model = TinyTransformer(cfg).eval()
    short = torch.tensor([[3, 4, 5, 0, 0, 0]])
    assert torch.allclose(model(short), model(torch.tensor([[3, 4, 5]])), atol=1e-5)


def test_tiny_transformer_bad_inputs():
    with pytest.raises(ValueError,
                       match="n_embd must be divisible by n_head, got n_embd=10, n_head=4"):
        TinyTransformerConfig(vocab_size=5, n_embd=10, n_head=4)
    model = TinyTransformer(TinyTransformerConfig(vocab_size=5, n_positions=4, n_embd=8, n_head=2))
    with pytest.raises(ValueError, match="sequence length 5 exceeds n_positions=4"):
        model(torch.zeros(1, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="must be 2-dimensional"):
        model(torch.zeros(5, dtype=torch.long))


def test_decay_param_groups_exempt_biases_norms_embeddings_and_tokens():
    from course_utils.optim import decay_param_groups

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = torch.nn.Embedding(10, 4)
            self.pos_table = torch.nn.Parameter(torch.zeros(5, 4))
            self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, 4))
            self.lin = torch.nn.Linear(4, 4)
            self.norm = torch.nn.LayerNorm(4)
            self.frozen = torch.nn.Linear(4, 4)
            self.frozen.requires_grad_(False)

    net = Net()
    decay, no_decay = decay_param_groups(net, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert [id(p) for p in decay["params"]] == [id(net.lin.weight)]
    exempt = {id(p) for p in no_decay["params"]}
    assert exempt == {id(net.tok.weight), id(net.pos_table), id(net.cls_token), id(net.lin.bias),
                      id(net.norm.weight), id(net.norm.bias)}
    torch.optim.AdamW(decay_param_groups(net, 0.01))  # accepted by torch as is
    with pytest.raises(ValueError, match="weight_decay"):
        decay_param_groups(net, -1.0)
