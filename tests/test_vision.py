"""Chapter 04: torch-only image transforms, batches, and the digits / CIFAR-10 loaders."""

import numpy as np
import pytest
import torch

from course_utils.data import CIFAR10_CLASSES, load_cifar10, load_digits_splits
from course_utils.vision import (Augment, image_batches, normalize, random_affine, random_crop,
                                 random_hflip, resize)


def batch(n=4, c=1, side=8, seed=0):
    return torch.rand(n, c, side, side, generator=torch.Generator().manual_seed(seed))


# --- transforms -----------------------------------------------------------------------
def test_normalize_and_errors():
    x = batch(c=3)
    out = normalize(x, [0.5, 0.4, 0.3], [0.1, 0.2, 0.3])
    assert torch.allclose(out[:, 1], (x[:, 1] - 0.4) / 0.2)
    assert torch.allclose(normalize(x, 0.5, 0.5), 2 * x - 1)
    with pytest.raises(ValueError, match="std must be > 0"):
        normalize(x, 0.0, 0.0)
    with pytest.raises(ValueError, match="1 or C=3 values"):
        normalize(x, [0.1, 0.2], 1.0)
    with pytest.raises(TypeError, match="float tensor"):
        normalize(torch.zeros(1, 1, 2, 2, dtype=torch.uint8), 0, 1)
    with pytest.raises(ValueError, match="4-dimensional"):
        normalize(torch.zeros(2, 2), 0, 1)


def test_resize():
    x = batch()
    assert resize(x, 16).shape == (4, 1, 16, 16)
    assert resize(x, (4, 6)).shape == (4, 1, 4, 6)
    assert torch.equal(resize(x, 16, mode="nearest")[..., ::2, ::2], x)
    with pytest.raises(ValueError, match="mode must be"):
        resize(x, 16, mode="area")


def test_hflip_extremes():
    x = batch()
    assert torch.equal(random_hflip(x, p=0.0), x)
    assert torch.equal(random_hflip(x, p=1.0), x.flip(-1))
    mixed = random_hflip(batch(n=64), p=0.5, generator=torch.Generator().manual_seed(0))
    flipped = [bool(torch.equal(m, o.flip(-1))) for m, o in zip(mixed, batch(n=64))]
    assert 10 < sum(flipped) < 54


def test_random_crop_is_an_integer_shift():
    x = batch(n=8)
    assert torch.equal(random_crop(x, 0), x)
    out = random_crop(x, 2, generator=torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for o, p in zip(out, padded):  # every output is some 8x8 window of the padded image
        assert any(torch.equal(o, p[:, i:i + 8, j:j + 8]) for i in range(5) for j in range(5))


def test_random_affine_identity_and_determinism():
    x = batch()
    assert torch.allclose(random_affine(x), x, atol=1e-5)
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    a = random_affine(x, 10, 0.1, (0.9, 1.1), generator=g())
    assert torch.equal(a, random_affine(x, 10, 0.1, (0.9, 1.1), generator=g()))
    assert not torch.allclose(a, x)
    filled = random_affine(torch.zeros(2, 1, 8, 8), translate=0.5, fill=1.0, generator=g())
    assert filled.max() <= 1.0 + 1e-6 and filled.max() > 0.5  # outside pixels get the fill
    with pytest.raises(ValueError, match="degrees must be <= 180"):
        random_affine(x, degrees=200)


def test_augment_pipeline():
    assert Augment().is_identity and not Augment(hflip=True).is_identity
    x = batch(n=6)
    assert torch.equal(Augment()(x), x)
    aug = Augment(crop_padding=1, hflip=True, degrees=5, translate=0.05, scale=(0.95, 1.05))
    a = aug(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, aug(x, torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="scale must be"):
        Augment(scale=(1.2, 1.0))


def test_image_batches_is_deterministic_and_covers_epochs():
    images = torch.arange(10, dtype=torch.float32).reshape(10, 1, 1, 1)
    labels = torch.arange(10)
    get = image_batches(images, labels, 3, seed=5)
    first_epoch = torch.cat([get(s)[1] for s in range(3)])
    assert len(set(first_epoch.tolist())) == 9  # 3 full batches, no repeats; 1 dropped
    again = image_batches(images, labels, 3, seed=5)
    assert torch.equal(again(4)[1], get(4)[1]) and torch.equal(get(1)[1], again(1)[1])
    x, y = get(0)
    assert torch.equal(x.flatten(), y.float())  # images stay paired with labels
    shifted = image_batches(images, labels, 3, transform=lambda t: t + 100, seed=5)
    assert torch.equal(shifted(0)[0], get(0)[0] + 100)
    with pytest.raises(ValueError, match="same length"):
        image_batches(images, labels[:5], 3)
    with pytest.raises(ValueError, match="batch_size must be <= 10"):
        image_batches(images, labels, 11)


# --- data -----------------------------------------------------------------------------
def test_digits_splits_are_fixed_stratified_and_disjoint():
    data = load_digits_splits(0)
    assert data.sizes() == {"train": 1257, "validation": 180, "test": 360}
    assert (data.image_size, data.channels, data.patch_size, data.source) == (8, 1, 2, "sklearn")
    x, y = data.split("train")
    assert x.shape[1:] == (1, 8, 8) and 0.0 <= x.min() and x.max() <= 1.0
    counts = np.bincount(data.split("test")[1].numpy(), minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # stratified
    flat = {name: {tuple(v.flatten().tolist()) for v in data.split(name)[0]}
            for name in ("train", "validation", "test")}
    assert not (flat["test"] & flat["validation"]) and len(flat["test"] & flat["train"]) < 5
    again = load_digits_splits(0)
    assert torch.equal(again.split("test")[0], data.split("test")[0])
    assert not torch.equal(load_digits_splits(1).split("test")[1], data.split("test")[1])
    assert torch.allclose(data.normalize(x).mean(), torch.tensor(0.0), atol=1e-4)
    with pytest.raises(ValueError, match="split must be one of"):
        data.split("dev")


def test_digits_fraction_and_subset():
    part = load_digits_splits(0, train_fraction=0.2)
    assert len(part.train) == pytest.approx(0.2 * 1257, abs=2)
    assert np.bincount(part.split("train")[1].numpy()).min() >= 20
    full = load_digits_splits(0)
    sub = full.subset(0.5)
    assert len(sub.train) == pytest.approx(628, abs=2) and sub.test is full.test
    assert torch.equal(sub.mean, full.mean)  # same normalisation as the full data
    with pytest.raises(ValueError, match="val_size \\+ test_size must be < 1"):
        load_digits_splits(0, val_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match="train_fraction must be > 0"):
        full.subset(0.0)


@pytest.fixture(scope="module")
def cifar_parquet(tmp_path_factory):
    datasets = pytest.importorskip("datasets")
    from PIL import Image

    folder = tmp_path_factory.mktemp("cifar")
    rng = np.random.default_rng(0)
    files = {}
    for split, n in (("train", 60), ("test", 20)):
        images = [Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)) for _ in range(n)]
        features = datasets.Features({"img": datasets.Image(),
                                      "label": datasets.ClassLabel(names=list(CIFAR10_CLASSES))})
        ds = datasets.Dataset.from_dict({"img": images, "label": [i % 10 for i in range(n)]},
                                        features=features)
        files[split] = str(folder / f"{split}.parquet")
        ds.to_parquet(files[split])
    return files


def test_cifar10_loader_on_local_parquet(cifar_parquet):
    data = load_cifar10(0, name="parquet", data_files=cifar_parquet, val_size=10)
    assert data.name == "cifar10" and data.source == "local"
    assert data.sizes() == {"train": 50, "validation": 10, "test": 20}
    assert (data.image_size, data.channels, data.patch_size) == (32, 3, 4)
    x, y = data.split("validation")
    assert x.dtype == torch.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert np.bincount(y.numpy(), minlength=10).tolist() == [1] * 10  # stratified
    half = load_cifar10(0, name="parquet", data_files=cifar_parquet, val_size=10,
                        train_fraction=0.4, test_fraction=0.5)
    assert half.sizes() == {"train": 20, "validation": 10, "test": 10}
    with pytest.raises(ValueError, match="val_size=60 must be smaller"):
        load_cifar10(0, name="parquet", data_files=cifar_parquet, val_size=60)


def test_cifar10_offline_falls_back_to_digits(capsys):
    data = load_cifar10(0)  # the tests run with HF_HUB_OFFLINE=1
    assert data.name == "digits" and data.source == "fallback"
    assert "uoft-cs/cifar10: offline" in capsys.readouterr().out
    with pytest.raises(OSError):
        load_cifar10(0, fallback=False)
