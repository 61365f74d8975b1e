"""Reading attention maps: entropy, mean attention distance, attention rollout.

All functions take attention weights shaped (..., T_q, T_k) whose rows are softmax
outputs, e.g. ``ViT.attention_maps(x)`` of shape (B, layers, heads, T, T).

* ``attention_entropy``: how spread out each query's attention is (0 = one key,
  log T_k = uniform), in nats.
* ``mean_attention_distance``: the attention-weighted distance, in pixels, between a
  patch query and the patches it looks at -- ViT's "receptive field size" (Dosovitskiy et
  al. 2021, Fig. 7).
* ``attention_rollout``: Abnar & Zuidema (2020). Treat each layer's head-averaged
  attention plus the residual connection as a mixing matrix, 0.5·A + 0.5·I, re-normalise
  its rows and multiply the layers; row 0 ([CLS]) then says how much each input token
  contributed to the [CLS] output.
"""

from __future__ import annotations

import torch

from course_utils.validation import check_choice, check_float, check_int, check_type

__all__ = ["attention_entropy", "patch_coordinates", "mean_attention_distance",
           "attention_rollout"]

HEAD_FUSIONS = ("mean", "max", "min")


def _check_weights(name: str, weights: torch.Tensor, min_ndim: int = 2) -> None:
    check_type(name, weights, torch.Tensor)
    if weights.ndim < min_ndim:
        raise ValueError(f"{name} must have shape (..., T_q, T_k) with at least {min_ndim} "
                         f"dimensions, got {tuple(weights.shape)}")


def attention_entropy(weights: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Entropy (nats) of every attention row: (..., T_q, T_k) -> (..., T_q)."""
    _check_weights("weights", weights)
    p = weights.clamp_min(eps)
    return -(weights * p.log()).sum(dim=-1)


def patch_coordinates(grid_h: int, grid_w: int, patch_size: int = 1) -> torch.Tensor:
    """(grid_h·grid_w, 2) centre coordinates (row, col) of the patches, in pixels."""
    check_int("grid_h", grid_h, min_value=1)
    check_int("grid_w", grid_w, min_value=1)
    check_int("patch_size", patch_size, min_value=1)
    rows = torch.arange(grid_h, dtype=torch.float32).repeat_interleave(grid_w)
    cols = torch.arange(grid_w, dtype=torch.float32).repeat(grid_h)
    return (torch.stack([rows, cols], dim=1) + 0.5) * patch_size


def mean_attention_distance(weights: torch.Tensor, grid_size: int | tuple[int, int],
                            patch_size: int = 1, n_prefix: int = 1) -> torch.Tensor:
    """Attention-weighted pixel distance from each patch query to the patches it attends to.

    ``weights``: (..., T, T) with the first ``n_prefix`` tokens not patches ([CLS]); they
    are dropped on both axes and each patch row is re-normalised over patch keys.
    Returns (...,): the mean over patch queries of sum_j a_ij · ||pos_i - pos_j||.
    """
    _check_weights("weights", weights)
    gh, gw = (grid_size, grid_size) if isinstance(grid_size, int) else grid_size
    check_int("n_prefix", n_prefix, min_value=0)
    n = gh * gw
    if weights.shape[-1] != weights.shape[-2] or weights.shape[-1] != n + n_prefix:
        raise ValueError(f"weights must be (..., T, T) with T = {n_prefix} + {gh}x{gw} "
                         f"patches = {n + n_prefix}, got {tuple(weights.shape)}")
    a = weights[..., n_prefix:, n_prefix:]  # (..., N, N) patch -> patch
    a = a / a.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    pos = patch_coordinates(gh, gw, patch_size).to(weights.device, weights.dtype)
    dist = torch.cdist(pos, pos)  # (N, N) Euclidean pixel distances
    return (a * dist).sum(dim=-1).mean(dim=-1)


def attention_rollout(weights: torch.Tensor, residual: float = 0.5,
                      head_fusion: str = "mean") -> torch.Tensor:
    """Attention rollout over layers: (..., L, H, T, T) -> (..., T, T).

    Per layer: fuse the heads (mean, max or min), mix in the residual path
    Â = residual·I + (1 - residual)·A, re-normalise rows; then R = Â_L ··· Â_2 Â_1.
    Row 0 of the result is the [CLS] token's attribution to every input token.
    """
    _check_weights("weights", weights, min_ndim=4)
    check_float("residual", residual, min_value=0.0, max_value=1.0)
    check_choice("head_fusion", head_fusion, HEAD_FUSIONS)
    t = weights.shape[-1]
    if weights.shape[-2] != t:
        raise ValueError(f"rollout needs square self-attention maps, got {tuple(weights.shape)}")
    if head_fusion == "mean":
        fused = weights.mean(dim=-3)  # (..., L, T, T)
    elif head_fusion == "max":
        fused = weights.amax(dim=-3)
    else:
        fused = weights.amin(dim=-3)
    eye = torch.eye(t, dtype=weights.dtype, device=weights.device)
    mixed = residual * eye + (1.0 - residual) * fused
    mixed = mixed / mixed.sum(dim=-1, keepdim=True)
    rollout = mixed[..., 0, :, :]
    for layer in range(1, mixed.shape[-3]):
        rollout = mixed[..., layer, :, :] @ rollout  # later layers act on earlier mixtures
    return rollout
