"""Chapter 04's shared recipe: the shift test, accuracy, fit and the position statistic."""

import math

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from course_utils.data import ImageSplits, load_digits_splits
from course_utils.image_classification import (AUGMENT, FitConfig, accuracy, end_train_acc, fit,
                                               fit_config, make_cnn, position_similarity, shift,
                                               shift_accuracy, shift_augment, vit_config)
from course_utils.models.vit import sincos_2d_table

pytestmark = pytest.mark.usefixtures("one_thread")


def test_shift_moves_pixels_and_fills_with_zero():
    x = torch.arange(1, 17, dtype=torch.float32).reshape(1, 1, 4, 4)
    down_right = shift(x, 1, 2)
    assert torch.equal(down_right[0, 0, 1:, 2:], x[0, 0, :3, :2])
    assert down_right[0, 0, 0].abs().sum() == 0 and down_right[0, 0, :, :2].abs().sum() == 0
    up_left = shift(x, -1, -1)
    assert torch.equal(up_left[0, 0, :3, :3], x[0, 0, 1:, 1:])
    assert torch.equal(shift(shift(x, 0, 1), 0, -1)[..., :3], x[..., :3])  # the lost column is gone
    assert torch.equal(shift(x, 0, 0), x)
    with pytest.raises(ValueError, match="smaller than the image"):
        shift(x, 4, 0)


class ColumnReader(nn.Module):
    """Predicts the column of the brightest pixel: logits = the image summed over rows."""

    def forward(self, images):
        return images.sum(dim=(1, 2))


def _one_pixel_splits(n=24):
    """8x8 images with one bright pixel away from the border; label = its column."""
    gen = torch.Generator().manual_seed(0)
    rows, cols = torch.randint(2, 6, (n,), generator=gen), torch.randint(2, 6, (n,), generator=gen)
    x = torch.zeros(n, 1, 8, 8)
    x[torch.arange(n), 0, rows, cols] = 1.0
    part = TensorDataset(x, cols)
    return ImageSplits("digits", part, part, part, tuple(map(str, range(8))), 2)


class Identity(ImageSplits):
    def normalize(self, images):
        return images


def test_accuracy_and_shift_accuracy_count_what_they_should():
    splits = _one_pixel_splits()
    splits.__class__ = Identity  # no normalisation, so the argmax is the pixel's column
    x, y = splits.split("test")
    model = ColumnReader().train()
    assert accuracy(model, x, y, splits) == 1.0
    assert model.training  # the mode is restored
    assert shift_accuracy(model, x, y, 0, splits) == 1.0
    # up/down keep the column (right), left/right move it (wrong): the mean of four is 1/2
    assert shift_accuracy(model, x, y, 1, splits) == 0.5


def test_fit_is_reproducible_and_learns():
    data = load_digits_splits(0).subset(0.3, seed=0)
    config = FitConfig(lr=3e-3, weight_decay=0.05, warmup_steps=5, batch_size=32, eval_every=20)

    def run(seed):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.GELU(), nn.Linear(32, 10))
        return fit(model, data, 60, config, AUGMENT["digits"], seed), model

    (first, model), (again, _), (other, _) = run(0), run(0), run(1)
    assert first.test_acc == again.test_acc and first.history.eval["val_acc"] == again.history.eval["val_acc"]
    assert first.history.eval_step == [20, 40, 60]
    assert first.test_acc > 0.5  # 60 steps of a small MLP on digits: far above chance (0.1)
    assert first.history.eval["val_acc"] != other.history.eval["val_acc"]  # the seed draws the batches
    x, y = data.split("test")
    assert accuracy(model, x, y, data) == first.test_acc
    accs = first.history.metrics["acc"]
    assert end_train_acc(first.history, last=10) == pytest.approx(sum(accs[-10:]) / 10)


def test_make_cnn_downsamples_to_four_by_four():
    digits, cifar = make_cnn(8, 1, 10, 8), make_cnn(8, 3, 10, 32)
    assert digits(torch.zeros(2, 1, 8, 8)).shape == (2, 10) and cifar(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert sum(isinstance(m, nn.MaxPool2d) for m in digits) == 1  # 8 -> 4
    assert sum(isinstance(m, nn.MaxPool2d) for m in cifar) == 3   # 32 -> 16 -> 8 -> 4
    assert cifar[-1].in_features == 8 * 2 ** 3  # the width doubles at each downsampling


def test_fit_warmup_is_at_most_a_tenth_of_the_run():
    data = load_digits_splits(0).subset(0.2, seed=0)
    config = FitConfig(lr=1e-2, weight_decay=0.0, warmup_steps=50, batch_size=16, eval_every=10)
    torch.manual_seed(0)
    result = fit(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), data, 20, config, AUGMENT["digits"], 0)
    lrs = result.history.lr
    assert math.isclose(max(lrs), 1e-2, rel_tol=1e-6) and lrs.index(max(lrs)) <= 2  # warmup 2 steps, not 50


def test_config_helpers_match_the_chapter_sizes():
    from course_utils.chapters import get_chapter

    sizes = get_chapter("04").sizes_for("quick")
    data = load_digits_splits(0)
    config = vit_config(data, sizes, position="sincos2d")
    assert (config.d_model, config.n_layers, config.position, config.n_classes) == (sizes.d_model, sizes.n_layers,
                                                                                    "sincos2d", 10)
    assert fit_config(sizes).batch_size == sizes.batch_size
    assert shift_augment(data).crop_padding == data.patch_size and not shift_augment(data).hflip
    with pytest.raises(ValueError):
        FitConfig(lr=1e-3, weight_decay=0.0, warmup_steps=0, batch_size=0, eval_every=1)


def test_position_similarity_sees_the_grid_only_where_there_is_one():
    _, rho_sincos = position_similarity(sincos_2d_table(4, 4, 64), 4)
    torch.manual_seed(0)
    _, rho_random = position_similarity(torch.randn(16, 64), 4)
    assert rho_sincos < -0.5 and abs(rho_random) < 0.2
    # a shared offset says nothing about position: adding one to every row changes nothing
    sim, rho_shifted = position_similarity(sincos_2d_table(4, 4, 64) + 5.0, 4)
    assert math.isclose(rho_shifted, rho_sincos, abs_tol=1e-3) and sim.shape == (16, 16)
    with pytest.raises(ValueError, match=r"\(16, d\)"):
        position_similarity(torch.randn(17, 64), 4)


class RowReader(nn.Module):
    """Predicts the row of the brightest pixel (logits = the image summed over columns)."""

    def forward(self, images):
        return images.sum(dim=(1, 3))


def test_shift_accuracy_averages_all_four_directions():
    splits = _one_pixel_splits()
    splits.__class__ = Identity
    x, _ = splits.split("test")
    rows = x[:, 0].sum(-1).argmax(-1)
    # labels = the row, but only pixels in row 2 or 3 are counted right after moving *down*
    labels = torch.where(rows < 4, rows + 1, rows)
    expected = sum(accuracy(RowReader(), shift(x, dy, dx), labels, splits)
                   for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))) / 4
    assert shift_accuracy(RowReader(), x, labels, 1, splits) == pytest.approx(expected)
    down, up = (accuracy(RowReader(), shift(x, d, 0), labels, splits) for d in (1, -1))
    assert down != up  # the directions differ, so using one of them twice would be caught


def test_accuracy_normalises_like_the_training_batches():
    data = load_digits_splits(0)
    x, y = data.split("test")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with torch.no_grad():
        expected = (model(data.normalize(x)).argmax(-1) == y).float().mean().item()
        raw = (model(x).argmax(-1) == y).float().mean().item()
    assert accuracy(model, x, y, data) == pytest.approx(expected) and expected != raw


def test_fit_validates_on_the_validation_split():
    data = load_digits_splits(0).subset(0.2, seed=0)
    config = FitConfig(lr=3e-3, weight_decay=0.0, warmup_steps=2, batch_size=32, eval_every=15)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    result = fit(model, data, 15, config, AUGMENT["digits"], 0)
    x_va, y_va = data.split("validation")
    x_te, y_te = data.split("test")
    assert result.history.eval["val_acc"][-1] == accuracy(model, x_va, y_va, data)
    assert result.test_acc == accuracy(model, x_te, y_te, data)
