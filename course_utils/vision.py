"""Images for the vision chapters, with torch ops only (no torchvision).

* Transforms on batches (B, C, H, W): ``normalize``, ``resize``, ``random_hflip``,
  ``random_crop`` (zero padding + crop, the CIFAR recipe), ``random_affine`` (rotation,
  translation, scaling through ``affine_grid``/``grid_sample``) and ``Augment``, which
  chains them. Randomness comes from an explicit ``torch.Generator``.
* ``image_batches``: a deterministic ``step -> (images, labels)`` function (shuffled
  epochs + augmentation) for ``course_utils.train.train``.
The image datasets themselves (digits, CIFAR-10) are loaded by ``course_utils.data``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from course_utils.validation import check_float, check_int, check_ndim, check_type

__all__ = ["normalize", "resize", "random_hflip", "random_crop", "random_affine", "Augment",
           "image_batches"]


def _check_batch(images: torch.Tensor) -> None:
    check_type("images", images, torch.Tensor)
    check_ndim("images", images, 4)
    if not images.is_floating_point():
        raise TypeError(f"images must be a float tensor (B, C, H, W), got dtype {images.dtype}")


def _rand(n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """n uniform numbers in [0, 1) drawn on the CPU generator, moved to ``device``."""
    return torch.rand(n, generator=generator).to(device)


def normalize(images: torch.Tensor, mean: Any, std: Any) -> torch.Tensor:
    """(images - mean) / std per channel; mean/std are numbers or length-C sequences."""
    _check_batch(images)
    mean_t = torch.as_tensor(mean, dtype=images.dtype, device=images.device).reshape(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=images.dtype, device=images.device).reshape(-1, 1, 1)
    if mean_t.shape[0] not in (1, images.shape[1]) or std_t.shape[0] not in (1, images.shape[1]):
        raise ValueError(f"mean and std need 1 or C={images.shape[1]} values, got "
                         f"{mean_t.shape[0]} and {std_t.shape[0]}")
    if bool((std_t <= 0).any()):
        raise ValueError(f"std must be > 0, got {std_t.flatten().tolist()}")
    return (images - mean_t) / std_t


def resize(images: torch.Tensor, size: int | tuple[int, int], mode: str = "bilinear"
           ) -> torch.Tensor:
    """Resize a batch to ``size`` (side or (H, W)) with ``F.interpolate`` (antialiased)."""
    _check_batch(images)
    if isinstance(size, int):
        size = (size, size)
    for s in size:
        check_int("size", s, min_value=1)
    if mode not in ("bilinear", "bicubic", "nearest"):
        raise ValueError(f"mode must be 'bilinear', 'bicubic' or 'nearest', got {mode!r}")
    if mode == "nearest":
        return F.interpolate(images, size=size, mode="nearest")
    down = size[0] < images.shape[2] or size[1] < images.shape[3]
    return F.interpolate(images, size=size, mode=mode, align_corners=False, antialias=down)


def random_hflip(images: torch.Tensor, p: float = 0.5,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image left-right with probability ``p`` (not for digits or text!)."""
    _check_batch(images)
    check_float("p", p, min_value=0.0, max_value=1.0)
    flip = _rand(images.shape[0], generator, images.device) < p
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def random_crop(images: torch.Tensor, padding: int, fill: float = 0.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Pad by ``padding`` pixels, then crop each image back at a random offset."""
    _check_batch(images)
    check_int("padding", padding, min_value=0)
    if padding == 0:
        return images
    b, c, h, w = images.shape
    padded = F.pad(images, (padding,) * 4, value=fill)  # (B, C, H + 2p, W + 2p)
    dy = (_rand(b, generator, images.device) * (2 * padding + 1)).long()  # 0 .. 2p
    dx = (_rand(b, generator, images.device) * (2 * padding + 1)).long()
    rows = (dy[:, None] + torch.arange(h, device=images.device))  # (B, H)
    cols = (dx[:, None] + torch.arange(w, device=images.device))  # (B, W)
    out = padded.gather(2, rows[:, None, :, None].expand(b, c, h, w + 2 * padding))
    return out.gather(3, cols[:, None, None, :].expand(b, c, h, w))  # (B, C, H, W)


def random_affine(images: torch.Tensor, degrees: float = 0.0, translate: float = 0.0,
                  scale: tuple[float, float] = (1.0, 1.0), fill: float = 0.0,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Random rotation (±degrees), shift (±translate × side) and zoom, bilinear.

    Implemented with ``F.affine_grid`` + ``F.grid_sample``: for each output pixel the grid
    says where to read in the input (the inverse transform); outside pixels get ``fill``.
    """
    _check_batch(images)
    check_float("degrees", degrees, min_value=0.0, max_value=180.0)
    check_float("translate", translate, min_value=0.0, max_value=1.0)
    lo, hi = scale
    check_float("scale[0]", lo, min_value=0.0, min_inclusive=False)
    check_float("scale[1]", hi, min_value=lo)
    b = images.shape[0]
    u = torch.rand(b, 4, generator=generator).to(images.device, images.dtype)
    angle = (2 * u[:, 0] - 1) * math.radians(degrees)
    zoom = lo + (hi - lo) * u[:, 1]
    shift = (2 * u[:, 2:] - 1) * 2 * translate  # grid coordinates span [-1, 1] = 2 units
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], dim=1),
                         torch.stack([sin, cos, shift[:, 1]], dim=1)], dim=1)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    if fill == 0.0:
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros",
                             align_corners=False)
    ones = torch.ones_like(images[:, :1])
    warped = F.grid_sample(torch.cat([images - fill, ones], 1), grid, mode="bilinear",
                           padding_mode="zeros", align_corners=False)
    return warped[:, :-1] + fill


@dataclass(frozen=True)
class Augment:
    """Train-time augmentation of a batch: crop, flip, then affine (each optional)."""

    crop_padding: int = 0  # random crop after zero padding (CIFAR: 4)
    hflip: bool = False  # random left-right flip (CIFAR yes; digits no: 2 != mirrored 2)
    degrees: float = 0.0  # max rotation
    translate: float = 0.0  # max shift as a fraction of the image side
    scale: tuple[float, float] = (1.0, 1.0)  # zoom range
    fill: float = 0.0  # value of pixels that come from outside the image

    def __post_init__(self) -> None:
        check_int("crop_padding", self.crop_padding, min_value=0)
        check_float("degrees", self.degrees, min_value=0.0, max_value=180.0)
        check_float("translate", self.translate, min_value=0.0, max_value=1.0)
        if len(self.scale) != 2 or not 0 < self.scale[0] <= self.scale[1]:
            raise ValueError(f"scale must be (low, high) with 0 < low <= high, got {self.scale}")

    @property
    def is_identity(self) -> bool:
        """True if the augmentation does nothing."""
        return (self.crop_padding == 0 and not self.hflip and self.degrees == 0
                and self.translate == 0 and self.scale == (1.0, 1.0))

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        """Augment a (B, C, H, W) float batch."""
        _check_batch(images)
        if self.crop_padding:
            images = random_crop(images, self.crop_padding, self.fill, generator)
        if self.hflip:
            images = random_hflip(images, 0.5, generator)
        if self.degrees or self.translate or self.scale != (1.0, 1.0):
            images = random_affine(images, self.degrees, self.translate, self.scale,
                                   self.fill, generator)
        return images


def image_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, *,
                  augment: Callable[..., torch.Tensor] | None = None,
                  transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                  seed: int = 0) -> Callable[[int], tuple[torch.Tensor, torch.Tensor]]:
    """``step -> (images, labels)``: shuffled epochs, then ``augment``, then ``transform``.

    Deterministic: the batch of a step depends only on (seed, step), so a run can be
    replayed or resumed. Incomplete last batches of an epoch are dropped.
    """
    check_type("images", images, torch.Tensor)
    check_type("labels", labels, torch.Tensor)
    if len(images) != len(labels):
        raise ValueError(f"images and labels must have the same length, got {len(images)} "
                         f"and {len(labels)}")
    check_int("batch_size", batch_size, min_value=1, max_value=len(images))
    check_int("seed", seed, min_value=0)
    per_epoch = len(images) // batch_size
    cache: dict[int, torch.Tensor] = {}

    def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, index = divmod(step, per_epoch)
        if epoch not in cache:
            cache.clear()
            gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
            cache[epoch] = torch.randperm(len(images), generator=gen)
        idx = cache[epoch][index * batch_size:(index + 1) * batch_size]
        x = images[idx]
        if augment is not None:
            x = augment(x, torch.Generator().manual_seed(seed * 1_000_003 + 7919 * step + 1))
        if transform is not None:
            x = transform(x)
        return x, labels[idx]

    return batch


