"""Images for the vision chapters, with torch ops only (no torchvision).

* Transforms on batches (B, C, H, W): ``normalize``, ``resize``, ``random_hflip``,
  ``random_crop`` (zero padding + crop, the CIFAR recipe), ``random_affine`` (rotation,
  translation, scaling through ``affine_grid``/``grid_sample``) and ``Augment``, which
  chains them. Randomness comes from an explicit ``torch.Generator``.
* ``image_batches``: a deterministic ``step -> (images, labels)`` function (shuffled
  epochs + augmentation) for ``course_utils.train.train``.
* Data: ``load_digits_splits`` (scikit-learn's bundled 8x8 digits, fixed stratified
  train/validation/test split; offline) and ``load_cifar10`` (CIFAR-10 from the Hugging
  Face Hub when reachable, else the digits with a one-line notice).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from course_utils.validation import check_float, check_int, check_ndim, check_type

__all__ = ["normalize", "resize", "random_hflip", "random_crop", "random_affine", "Augment",
           "image_batches", "ImageSplits", "load_digits_splits", "load_cifar10",
           "CIFAR10_CLASSES"]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
SPLITS = ("train", "validation", "test")


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


@dataclass
class ImageSplits:
    """Train/validation/test images (B, C, H, W) in [0, 1] with integer labels."""

    name: str  # "digits" or "cifar10"
    train: TensorDataset
    validation: TensorDataset
    test: TensorDataset
    classes: tuple[str, ...]
    patch_size: int  # a sensible ViT patch size for this image size
    source: str = "local"  # where the data came from: "sklearn", "hub", "local", "fallback"
    note: str = ""
    mean: torch.Tensor = field(init=False)  # per-channel statistics of the training images
    std: torch.Tensor = field(init=False)

    def __post_init__(self) -> None:
        x = self.train.tensors[0]
        self.mean = x.mean(dim=(0, 2, 3))
        self.std = x.std(dim=(0, 2, 3)).clamp_min(1e-6)

    @property
    def image_size(self) -> int:
        """Side of the (square) images."""
        return int(self.train.tensors[0].shape[-1])

    @property
    def channels(self) -> int:
        """1 (grey) or 3 (RGB)."""
        return int(self.train.tensors[0].shape[1])

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(images, labels) of ``train``, ``validation`` or ``test``."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {name!r}")
        images, labels = getattr(self, name).tensors
        return images, labels

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """Standardise with the training set's per-channel mean and std."""
        return normalize(images, self.mean.to(images.device), self.std.to(images.device))

    def sizes(self) -> dict[str, int]:
        """Number of images per split."""
        return {name: len(getattr(self, name)) for name in SPLITS}

    def subset(self, train_fraction: float, seed: int = 0) -> "ImageSplits":
        """The same splits with a class-balanced ``train_fraction`` of the training images.

        Validation and test are unchanged, and so is the normalisation (mean/std).
        """
        _check_fraction("train_fraction", train_fraction)
        check_int("seed", seed, min_value=0)
        images, labels = self.train.tensors
        keep = torch.from_numpy(_stratified_subset(labels.numpy(), train_fraction, seed))
        part = ImageSplits(self.name, TensorDataset(images[keep], labels[keep]),
                           self.validation, self.test, self.classes, self.patch_size,
                           self.source, f"{self.note}; {train_fraction:.0%} of train")
        part.mean, part.std = self.mean, self.std  # same normalisation as the full data
        return part


def _stratified_subset(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of a class-balanced ``fraction`` of ``labels`` (all of them for 1.0)."""
    if fraction >= 1.0:
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(labels)), train_size=fraction, random_state=seed,
                               stratify=labels)
    return np.sort(keep)


def _check_fraction(name: str, value: float) -> float:
    value = check_float(name, value, min_value=0.0, max_value=1.0, min_inclusive=False)
    return value


def load_digits_splits(seed: int = 0, *, val_size: float = 0.1, test_size: float = 0.2,
                       train_fraction: float = 1.0) -> ImageSplits:
    """scikit-learn's 1,797 handwritten digits (8x8, grey) as a fixed stratified split.

    Pixels are scaled from 0..16 to [0, 1]. ``seed`` fixes the split (the course uses 0);
    ``train_fraction`` keeps a class-balanced part of the training split (for data-size
    experiments), never touching validation and test.
    """
    check_int("seed", seed, min_value=0)
    _check_fraction("val_size", val_size)
    _check_fraction("test_size", test_size)
    if val_size + test_size >= 1.0:
        raise ValueError(f"val_size + test_size must be < 1, got {val_size} + {test_size}")
    _check_fraction("train_fraction", train_fraction)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0  # (1797, 1, 8, 8)
    y = torch.tensor(digits.target, dtype=torch.long)
    index = np.arange(len(y))
    rest, test = train_test_split(index, test_size=test_size, random_state=seed,
                                  stratify=digits.target)
    train, val = train_test_split(rest, test_size=val_size / (1 - test_size),
                                  random_state=seed, stratify=digits.target[rest])
    train = np.sort(train)[_stratified_subset(digits.target[np.sort(train)], train_fraction,
                                              seed)]
    parts = {name: np.sort(idx) for name, idx in
             (("train", train), ("validation", val), ("test", test))}
    return ImageSplits("digits", *(TensorDataset(x[parts[s]], y[parts[s]]) for s in SPLITS),
                       classes=tuple(str(d) for d in range(10)), patch_size=2,
                       source="sklearn", note="scikit-learn load_digits (8x8, offline)")


def _hf_images_to_tensor(column: Any) -> torch.Tensor:
    """A column of PIL images (H, W, 3) -> float tensor (N, 3, H, W) in [0, 1]."""
    arrays = [np.asarray(image.convert("RGB"), dtype=np.uint8) for image in column]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 255.0


def load_cifar10(seed: int = 0, *, train_fraction: float = 1.0, val_size: int = 5000,
                 test_fraction: float = 1.0, name: str = "uoft-cs/cifar10",
                 fallback: bool = True, **load_kwargs: Any) -> ImageSplits:
    """CIFAR-10 (32x32 RGB) from the Hub, with a stratified validation split from train.

    Offline (or when the Hub fails) it prints one line and returns the digits instead
    (``fallback=False`` raises). ``name`` may also be a builder such as ``"parquet"``
    with ``data_files={"train": ..., "test": ...}`` (columns ``img``, ``label``).
    """
    check_int("seed", seed, min_value=0)
    _check_fraction("train_fraction", train_fraction)
    _check_fraction("test_fraction", test_fraction)
    check_int("val_size", val_size, min_value=1)
    from course_utils.assets import load_text_dataset

    loaded = load_text_dataset(
        name, fallback=(lambda: None) if fallback else None,
        fallback_note="scikit-learn's digits (8x8 grey) instead of CIFAR-10", **load_kwargs)
    if loaded.value is None:
        data = load_digits_splits(seed)
        data.source, data.note = "fallback", "digits: CIFAR-10 was not available (offline)"
        return data
    dataset = loaded.value
    train_labels = np.asarray(dataset["train"]["label"])
    if val_size >= len(train_labels):
        raise ValueError(f"val_size={val_size} must be smaller than the {len(train_labels)} "
                         f"training images")
    from sklearn.model_selection import train_test_split

    train_idx, val_idx = train_test_split(np.arange(len(train_labels)), test_size=val_size,
                                          random_state=seed, stratify=train_labels)
    train_idx = np.sort(train_idx)
    train_idx = train_idx[_stratified_subset(train_labels[train_idx], train_fraction, seed)]
    test_labels = np.asarray(dataset["test"]["label"])
    test_idx = _stratified_subset(test_labels, test_fraction, seed)

    def part(split: str, idx: np.ndarray) -> TensorDataset:
        rows = dataset[split].select(np.sort(idx).tolist())
        return TensorDataset(_hf_images_to_tensor(rows["img"]),
                             torch.tensor(rows["label"], dtype=torch.long))

    return ImageSplits("cifar10", part("train", train_idx), part("train", val_idx),
                       part("test", test_idx), classes=CIFAR10_CLASSES, patch_size=4,
                       source=loaded.source, note=f"CIFAR-10 ({loaded.detail})")
