"""The Vision Transformer (Dosovitskiy et al., 2021): an image as a sequence of patches.

pixels (B, C, H, W) -> ``patch_embed`` (a Conv2d with kernel = stride = P, i.e. one linear
map applied to every non-overlapping P x P patch) -> (B, N, d) with N = (H/P)·(W/P) ->
prepend the learned ``cls_token`` -> add learned ``position_embeddings`` (N + 1 rows) ->
``n_layers`` pre-LN ``TransformerBlock`` s (``h``) -> final LayerNorm ``ln_f`` -> ``head``
on the [CLS] vector (or on the mean of the patch vectors with ``pool="mean"``).

``from_hf_vit`` copies the weights of a Hugging Face ``ViTModel`` /
``ViTForImageClassification`` (transformers 5.x module names) into this model; the two
then agree to float precision, which is how the chapter checks its implementation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

from course_utils.models.blocks import BlockConfig, TransformerBlock
from course_utils.models.positional import sinusoidal_table
from course_utils.validation import check_choice, check_int, check_ndim, check_type

__all__ = ["ViTConfig", "PRESETS", "num_patch_tokens", "patchify",
           "unpatchify", "sincos_2d_table", "window_partition", "PatchEmbedding", "ViT",
           "from_hf_vit"]

POOLING = ("cls", "mean")
POSITIONS = ("learned", "sincos2d")


@dataclass
class ViTConfig:
    """Sizes of a Vision Transformer (Hugging Face names in the comments)."""

    image_size: int = 224  # side of the (square) input image, pixels (image_size)
    patch_size: int = 16  # side of one square patch, pixels (patch_size)
    in_channels: int = 3  # 3 for RGB, 1 for grey (num_channels)
    d_model: int = 768  # width of the residual stream (hidden_size)
    n_layers: int = 12  # Transformer blocks (num_hidden_layers)
    n_heads: int = 12  # attention heads per block (num_attention_heads)
    d_ff: int | None = None  # MLP width, default 4 * d_model (intermediate_size)
    n_classes: int = 1000  # classifier outputs; 0 = no head, the model returns features
    dropout: float = 0.0  # dropout on embeddings and residual branches (hidden_dropout_prob)
    attn_dropout: float = 0.0  # dropout on attention weights (attention_probs_dropout_prob)
    layer_norm_eps: float = 1e-12  # as in HF ViT (layer_norm_eps)
    pool: str = "cls"  # "cls": classify the [CLS] vector (ViT); "mean": mean of patch vectors
    position: str = "learned"  # "learned" table (ViT) or fixed "sincos2d" (MAE)

    def __post_init__(self) -> None:
        check_int("image_size", self.image_size, min_value=1)
        check_int("patch_size", self.patch_size, min_value=1)
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size must be divisible by patch_size, got image_size="
                             f"{self.image_size} and patch_size={self.patch_size}")
        check_int("in_channels", self.in_channels, min_value=1)
        check_int("n_layers", self.n_layers, min_value=0)
        # d_model, n_heads (d_model divisible by n_heads), d_ff (default 4 * d_model), the
        # dropouts and layer_norm_eps are the block's sizes: BlockConfig checks them
        self.d_ff = self.block_config().d_ff
        check_int("n_classes", self.n_classes, min_value=0)
        check_choice("pool", self.pool, POOLING)
        check_choice("position", self.position, POSITIONS)
        if self.position == "sincos2d" and self.d_model % 4:
            raise ValueError(f"position='sincos2d' needs d_model divisible by 4, got "
                             f"{self.d_model}")

    @property
    def grid_size(self) -> int:
        """Patches per side, image_size / patch_size."""
        return self.image_size // self.patch_size

    @property
    def num_patches(self) -> int:
        """N = (H/P)·(W/P)."""
        return self.grid_size ** 2

    @property
    def num_tokens(self) -> int:
        """Sequence length seen by the encoder: N patches + 1 [CLS]."""
        return self.num_patches + 1

    def block_config(self) -> BlockConfig:
        """The pre-LN GELU block every layer uses."""
        return BlockConfig(d_model=self.d_model, n_heads=self.n_heads, d_ff=self.d_ff,
                           dropout=self.dropout, attn_dropout=self.attn_dropout,
                           activation="gelu", norm_first=True,
                           layer_norm_eps=self.layer_norm_eps)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return asdict(self)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "ViTConfig":
        """A config from ``PRESETS[name]`` with fields replaced by ``overrides``."""
        check_choice("preset", name, list(PRESETS))
        return replace(PRESETS[name], **overrides)


#: Named sizes. ``vit-base-patch16-224`` is the architecture of google/vit-base-patch16-224.
PRESETS: dict[str, ViTConfig] = {
    "vit-digits": ViTConfig(image_size=8, patch_size=2, in_channels=1, d_model=64,
                            n_layers=4, n_heads=4, n_classes=10),
    "vit-cifar": ViTConfig(image_size=32, patch_size=4, in_channels=3, d_model=192,
                           n_layers=6, n_heads=3, n_classes=10),
    "vit-tiny-patch16-224": ViTConfig(d_model=192, n_layers=12, n_heads=3),
    "vit-small-patch16-224": ViTConfig(d_model=384, n_layers=12, n_heads=6),
    "vit-base-patch16-224": ViTConfig(),
}


def num_patch_tokens(height: int, width: int, patch_size: int, cls_token: bool = True) -> int:
    """Sequence length of a ViT: (H/P)·(W/P) patches, + 1 with a [CLS] token."""
    check_int("height", height, min_value=1)
    check_int("width", width, min_value=1)
    check_int("patch_size", patch_size, min_value=1)
    if height % patch_size or width % patch_size:
        raise ValueError(f"height and width must be divisible by patch_size, got "
                         f"{height}x{width} with patch_size={patch_size}")
    return (height // patch_size) * (width // patch_size) + int(cls_token)


def _check_images(images: torch.Tensor, patch_size: int) -> None:
    check_type("images", images, torch.Tensor)
    check_ndim("images", images, 4)
    check_int("patch_size", patch_size, min_value=1)
    _, _, h, w = images.shape
    if h % patch_size or w % patch_size:
        raise ValueError(f"image height and width must be divisible by patch_size="
                         f"{patch_size}, got images of shape {tuple(images.shape)}")


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, N, C·P·P): non-overlapping patches in row-major order.

    Each patch vector is ordered (channel, row-in-patch, column-in-patch), the order of a
    ``Conv2d`` weight, so ``patchify(x, P) @ conv.weight.flatten(1).T + conv.bias`` equals
    the patch embedding ``conv(x).flatten(2).transpose(1, 2)``.
    """
    _check_images(images, patch_size)
    b, c, h, w = images.shape
    p = patch_size
    x = images.reshape(b, c, h // p, p, w // p, p)  # (B, C, gh, P, gw, P)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (B, gh, gw, C, P, P)
    return x.reshape(b, (h // p) * (w // p), c * p * p)  # (B, N, C·P·P)


def unpatchify(patches: torch.Tensor, patch_size: int, channels: int,
               height: int | None = None) -> torch.Tensor:
    """Inverse of ``patchify``: (B, N, C·P·P) -> (B, C, H, W); square unless ``height``."""
    check_type("patches", patches, torch.Tensor)
    check_ndim("patches", patches, 3)
    check_int("patch_size", patch_size, min_value=1)
    check_int("channels", channels, min_value=1)
    b, n, dim = patches.shape
    p = patch_size
    if dim != channels * p * p:
        raise ValueError(f"patch vectors must have C·P·P = {channels * p * p} entries, got "
                         f"shape {tuple(patches.shape)}")
    if height is None:
        gh = int(round(n ** 0.5))
        if gh * gh != n:
            raise ValueError(f"{n} patches do not form a square grid; pass height=")
    else:
        check_int("height", height, min_value=p)
        if height % p or n % (height // p):
            raise ValueError(f"height={height} does not fit {n} patches of size {p}")
        gh = height // p
    gw = n // gh
    x = patches.reshape(b, gh, gw, channels, p, p)  # (B, gh, gw, C, P, P)
    x = x.permute(0, 3, 1, 4, 2, 5)  # (B, C, gh, P, gw, P)
    return x.reshape(b, channels, gh * p, gw * p)


def sincos_2d_table(grid_h: int, grid_w: int, d_model: int, base: float = 10000.0
                    ) -> torch.Tensor:
    """Fixed 2-D sin-cos position table (grid_h·grid_w, d_model), as in MAE.

    The first half of the channels encodes the row with the 1-D sinusoidal table of width
    d/2, the second half the column; patches are numbered row by row.
    """
    check_int("grid_h", grid_h, min_value=1)
    check_int("grid_w", grid_w, min_value=1)
    check_int("d_model", d_model, min_value=4)
    if d_model % 4:
        raise ValueError(f"d_model must be divisible by 4 (sin + cos for rows and columns), "
                         f"got {d_model}")
    half = d_model // 2
    rows = sinusoidal_table(grid_h, half, base)  # (gh, d/2)
    cols = sinusoidal_table(grid_w, half, base)  # (gw, d/2)
    row_part = rows[:, None, :].expand(grid_h, grid_w, half)  # same row -> same code
    col_part = cols[None, :, :].expand(grid_h, grid_w, half)
    return torch.cat([row_part, col_part], dim=-1).reshape(grid_h * grid_w, d_model)


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """Swin's windows: (B, H, W, C) -> (B·(H/w)·(W/w), w, w, C), windows row-major."""
    check_type("x", x, torch.Tensor)
    check_ndim("x", x, 4)
    check_int("window", window, min_value=1)
    b, h, w, c = x.shape
    if h % window or w % window:
        raise ValueError(f"H and W must be divisible by window={window}, got x of shape "
                         f"{tuple(x.shape)}")
    x = x.reshape(b, h // window, window, w // window, window, c)  # (B, nh, w, nw, w, C)
    x = x.permute(0, 1, 3, 2, 4, 5)  # (B, nh, nw, w, w, C)
    return x.reshape(-1, window, window, c)


class PatchEmbedding(nn.Module):
    """(B, C, H, W) -> (B, N, d): a Conv2d with kernel = stride = patch_size (HF ``projection``)."""

    def __init__(self, image_size: int, patch_size: int, in_channels: int, d_model: int) -> None:
        super().__init__()
        check_int("image_size", image_size, min_value=1)
        check_int("patch_size", patch_size, min_value=1)
        if image_size % patch_size:
            raise ValueError(f"image_size must be divisible by patch_size, got {image_size} "
                             f"and {patch_size}")
        self.image_size, self.patch_size, self.in_channels = image_size, patch_size, in_channels
        self.grid_size = image_size // patch_size
        self.num_patches = self.grid_size ** 2
        self.proj = nn.Conv2d(in_channels, d_model, kernel_size=patch_size, stride=patch_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, N, d), patches numbered row by row."""
        check_type("images", images, torch.Tensor)
        expected = (self.in_channels, self.image_size, self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"images must have shape (B, {expected[0]}, {expected[1]}, "
                             f"{expected[2]}), got {tuple(images.shape)}")
        x = self.proj(images)  # (B, d, H/P, W/P)
        return x.flatten(2).transpose(1, 2)  # (B, N, d)


class ViT(nn.Module):
    """Patch embedding + [CLS] + positions -> pre-LN encoder -> LayerNorm -> head."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        check_type("config", config, ViTConfig)
        self.config = c = config
        self.patch_embed = PatchEmbedding(c.image_size, c.patch_size, c.in_channels, c.d_model)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, c.d_model))
        if c.position == "learned":
            self.position_embeddings = nn.Parameter(torch.zeros(1, c.num_tokens, c.d_model))
        else:  # fixed: [CLS] gets the zero vector, patches the 2-D sin-cos code
            table = torch.cat([torch.zeros(1, c.d_model),
                               sincos_2d_table(c.grid_size, c.grid_size, c.d_model)])
            self.register_buffer("position_embeddings", table[None], persistent=False)
        self.drop = nn.Dropout(c.dropout)
        self.h = nn.ModuleList(TransformerBlock(c.block_config()) for _ in range(c.n_layers))
        self.ln_f = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)
        self.head = nn.Linear(c.d_model, c.n_classes) if c.n_classes else nn.Identity()
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, std: float = 0.02) -> None:
        """ViT's initialisation: truncated normal(0, 0.02) weights, zero biases, zero head."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.trunc_normal_(self.cls_token, std=std, a=-2 * std, b=2 * std)
        if isinstance(self.position_embeddings, nn.Parameter):
            nn.init.trunc_normal_(self.position_embeddings, std=std, a=-2 * std, b=2 * std)
        if isinstance(self.head, nn.Linear):  # start from uniform predictions
            nn.init.zeros_(self.head.weight)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, N + 1, d): [CLS] + patch embeddings + positions."""
        x = self.patch_embed(images)  # (B, N, d)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, d)
        x = torch.cat([cls, x], dim=1)  # (B, N + 1, d)
        return self.drop(x + self.position_embeddings)

    def encode(self, images: torch.Tensor, need_weights: bool = False
               ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Hidden states after ``ln_f`` (B, N + 1, d) and, if asked, per-layer attention.

        The attention list has one (B, n_heads, N + 1, N + 1) tensor per layer (token 0 is
        [CLS]); it is empty unless ``need_weights`` (then the slower explicit softmax path
        is used instead of PyTorch's fused kernel).
        """
        x = self.embed(images)
        weights: list[torch.Tensor] = []
        for block in self.h:
            x, w, _ = block(x, need_weights=need_weights)
            if need_weights:
                weights.append(w)
        return self.ln_f(x), weights

    def pool(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, N + 1, d) -> (B, d): the [CLS] vector or the mean of the patch vectors."""
        return hidden[:, 0] if self.config.pool == "cls" else hidden[:, 1:].mean(dim=1)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, d): the pooled representation the head classifies."""
        return self.pool(self.encode(images)[0])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> logits (B, n_classes) (or features (B, d) when n_classes=0)."""
        return self.head(self.features(images))

    def attention_maps(self, images: torch.Tensor) -> torch.Tensor:
        """Attention of every layer, stacked: (B, n_layers, n_heads, N + 1, N + 1)."""
        _, weights = self.encode(images, need_weights=True)
        return torch.stack(weights, dim=1)


def _hf_config_to_ours(hf_config: Any, n_classes: int) -> ViTConfig:
    image_size, patch_size = hf_config.image_size, hf_config.patch_size
    for name, value in (("image_size", image_size), ("patch_size", patch_size)):
        if isinstance(value, (tuple, list)):
            if value[0] != value[1]:
                raise ValueError(f"only square {name} is supported, got {value}")
            value = value[0]
        if name == "image_size":
            image_size = int(value)
        else:
            patch_size = int(value)
    act = getattr(hf_config, "hidden_act", "gelu")
    if act != "gelu":
        raise ValueError(f"only hidden_act='gelu' is supported, got {act!r}")
    if not getattr(hf_config, "qkv_bias", True):
        raise ValueError("only qkv_bias=True is supported (our projections all have biases)")
    return ViTConfig(image_size=image_size, patch_size=patch_size,
                     in_channels=hf_config.num_channels, d_model=hf_config.hidden_size,
                     n_layers=hf_config.num_hidden_layers,
                     n_heads=hf_config.num_attention_heads,
                     d_ff=hf_config.intermediate_size, n_classes=n_classes,
                     layer_norm_eps=hf_config.layer_norm_eps)


@torch.no_grad()
def from_hf_vit(hf_model: nn.Module) -> ViT:
    """Our ``ViT`` with the weights of a HF ``ViTForImageClassification`` or ``ViTModel``.

    From a ``ViTModel`` (no classifier) the result has ``n_classes=0`` and returns the
    [CLS] features after the final LayerNorm (HF's pooler, if any, is not copied).
    Expects transformers 5.x module names (``layers.i.attention.q_proj``, ``mlp.fc1``...).
    """
    check_type("hf_model", hf_model, nn.Module)
    vit = getattr(hf_model, "vit", hf_model)
    classifier = getattr(hf_model, "classifier", None)
    if not hasattr(vit, "embeddings") or not hasattr(vit, "layers"):
        raise TypeError(f"hf_model must be a transformers ViTModel or "
                        f"ViTForImageClassification (5.x), got {type(hf_model).__name__}")
    n_classes = classifier.out_features if isinstance(classifier, nn.Linear) else 0
    model = ViT(_hf_config_to_ours(hf_model.config, n_classes))
    emb = vit.embeddings
    model.patch_embed.proj.load_state_dict(emb.patch_embeddings.projection.state_dict())
    model.cls_token.copy_(emb.cls_token)
    model.position_embeddings.copy_(emb.position_embeddings)
    for ours, theirs in zip(model.h, vit.layers):
        att = theirs.attention
        ours.ln_1.load_state_dict(theirs.layernorm_before.state_dict())
        ours.attn.q_proj.load_state_dict(att.q_proj.state_dict())
        ours.attn.k_proj.load_state_dict(att.k_proj.state_dict())
        ours.attn.v_proj.load_state_dict(att.v_proj.state_dict())
        ours.attn.out_proj.load_state_dict(att.o_proj.state_dict())
        ours.ln_2.load_state_dict(theirs.layernorm_after.state_dict())
        ours.mlp.c_fc.load_state_dict(theirs.mlp.fc1.state_dict())
        ours.mlp.c_proj.load_state_dict(theirs.mlp.fc2.state_dict())
    model.ln_f.load_state_dict(vit.layernorm.state_dict())
    if n_classes:
        model.head.load_state_dict(classifier.state_dict())
    return model.eval()
