"""Contrastive learning (chapter 08): pairs and the margin loss, SimCLR's NT-Xent, CLIP's loss,
two-view augmentations written with torch ops, a small conv encoder and a linear probe.

The notebook writes each piece first; tests check that the notebook's versions and these
give the same numbers, and that ``nt_xent`` equals a plain ``F.cross_entropy`` formulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validation import check_float, check_int, check_ndim, check_type
from course_utils.vision import random_affine, random_hflip

__all__ = ["margin_contrastive_loss", "make_pairs", "nt_xent", "nt_xent_reference",
           "info_nce", "clip_loss", "ViewAugment", "ConvEncoder", "ProjectionHead",
           "embed", "linear_probe", "ProbeResult", "stratified_indices"]


# --- pairs and the margin loss (Hadsell, Chopra & LeCun 2006) -----------------------------
def margin_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor, same: torch.Tensor,
                            margin: float = 1.0) -> torch.Tensor:
    """Mean over pairs of ``same * d^2 + (1 - same) * relu(margin - d)^2``, d = ||z1 - z2||.

    ``z1``, ``z2``: (N, D) embeddings of the two members of each pair; ``same``: (N,) 1 for a
    similar pair (pulled together), 0 for a dissimilar one (pushed to at least ``margin``).
    """
    check_ndim("z1", z1, 2)
    if z2.shape != z1.shape:
        raise ValueError(f"z2 must have the shape of z1 {tuple(z1.shape)}, got {tuple(z2.shape)}")
    if same.shape != z1.shape[:1]:
        raise ValueError(f"same must have shape ({z1.shape[0]},), got {tuple(same.shape)}")
    check_float("margin", margin, min_value=0.0, min_inclusive=False)
    d = F.pairwise_distance(z1, z2, eps=0.0)  # (N,)
    y = same.to(z1.dtype)
    return (y * d.pow(2) + (1 - y) * F.relu(margin - d).pow(2)).mean()


def make_pairs(labels: torch.Tensor, n_pairs: int, seed: int = 0
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n_pairs`` index pairs (i, j) and ``same`` (1 if labels match): half of each kind."""
    check_ndim("labels", labels, 1)
    check_int("n_pairs", n_pairs, min_value=2)
    gen = torch.Generator().manual_seed(seed)
    n = len(labels)
    first = torch.randint(0, n, (n_pairs,), generator=gen)
    want_same = torch.arange(n_pairs) % 2 == 0
    second = torch.empty_like(first)
    by_class = {int(c): torch.nonzero(labels == c).flatten() for c in labels.unique()}
    others = {c: torch.nonzero(labels != c).flatten() for c in by_class}
    for k in range(n_pairs):
        c = int(labels[first[k]])
        pool = by_class[c] if want_same[k] else others[c]
        second[k] = pool[torch.randint(0, len(pool), (1,), generator=gen)]
    return first, second, (labels[first] == labels[second]).long()


# --- NT-Xent / InfoNCE (SimCLR, Chen et al. 2020) and CLIP (Radford et al. 2021) --------
def _check_views(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> None:
    check_type("z1", z1, torch.Tensor)
    check_ndim("z1", z1, 2)
    if z2.shape != z1.shape:
        raise ValueError(f"z2 must have the shape of z1 {tuple(z1.shape)}, got {tuple(z2.shape)}")
    if z1.shape[0] < 2:
        raise ValueError(f"NT-Xent needs at least 2 examples (negatives), got {z1.shape[0]}")
    check_float("temperature", temperature, min_value=0.0, min_inclusive=False)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """SimCLR's loss for N positive pairs (z1[i], z2[i]), written out.

    The 2N embeddings are L2-normalised; for each of them the other view of the same image
    is the positive and the remaining 2N - 2 are negatives:
    ``l_i = -s(i, pos(i))/t + log sum_{k != i} exp(s(i, k)/t)``, averaged over all 2N.
    """
    _check_views(z1, z2, temperature)
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # (2N, D), unit length
    sim = z @ z.T / temperature  # (2N, 2N) cosine similarities / t
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(self_mask, float("-inf"))  # an example is not its own negative
    pos = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    positive = sim[torch.arange(2 * n, device=z.device), pos]  # (2N,)
    return (torch.logsumexp(sim, dim=1) - positive).mean()


def nt_xent_reference(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5
                      ) -> torch.Tensor:
    """The same loss as a 2N-way classification with ``F.cross_entropy``.

    Row i of the logits lists its 2N - 1 candidates (itself removed); the label is the
    position of its positive among them.
    """
    _check_views(z1, z2, temperature)
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = F.cosine_similarity(z[:, None, :], z[None, :, :], dim=-1) / temperature
    keep = ~torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = sim[keep].view(2 * n, 2 * n - 1)  # the diagonal is gone; columns after i shift
    pos = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    labels = torch.where(pos > torch.arange(2 * n), pos - 1, pos).to(z.device)
    return F.cross_entropy(logits, labels)


def info_nce(queries: torch.Tensor, keys: torch.Tensor, temperature: float = 0.07
             ) -> torch.Tensor:
    """One-directional InfoNCE: query i must pick key i among all N keys (cosine / t)."""
    _check_views(queries, keys, temperature)
    logits = F.normalize(queries, dim=1) @ F.normalize(keys, dim=1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(queries), device=queries.device))


def clip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, temperature: float = 0.07
              ) -> torch.Tensor:
    """CLIP's symmetric loss: the mean of image->text and text->image InfoNCE."""
    return 0.5 * (info_nce(image_emb, text_emb, temperature)
                  + info_nce(text_emb, image_emb, temperature))


# --- two views of an image, with torch ops -----------------------------------------------
@dataclass(frozen=True)
class ViewAugment:
    """A random view of a batch: crop-and-zoom/rotate (affine), flip, jitter, noise, cutout.

    Every knob is a torch op on a (B, C, H, W) batch in [0, 1]; calling it twice on the same
    batch gives SimCLR's two views.
    """

    degrees: float = 10.0  # max rotation
    translate: float = 0.1  # max shift (fraction of the side)
    scale: tuple[float, float] = (0.8, 1.1)  # zoom range (a random-resized-crop stand-in)
    hflip: bool = False  # digits: no (a mirrored 2 is not a 2); CIFAR-10: yes
    brightness: float = 0.2  # multiply by U(1 - b, 1 + b)
    contrast: float = 0.2  # blend with the image mean by U(1 - c, 1 + c)
    grey_p: float = 0.0  # RGB only: probability of turning the view grey
    noise: float = 0.05  # std of additive Gaussian noise
    cutout: int = 2  # side of a square set to 0 at a random place (0 = none)

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        """One random view of every image of ``images`` (B, C, H, W)."""
        check_ndim("images", images, 4)
        b, c, h, w = images.shape
        x = random_affine(images, self.degrees, self.translate, self.scale, 0.0, generator)
        if self.hflip:
            x = random_hflip(x, 0.5, generator)
        u = torch.rand(b, 4, generator=generator).to(x)
        x = x * (1 + self.brightness * (2 * u[:, :1, None, None] - 1))
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = mean + (x - mean) * (1 + self.contrast * (2 * u[:, 1:2, None, None] - 1))
        if c == 3 and self.grey_p > 0:
            grey = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device)[:, None, None]
                    ).sum(1, keepdim=True).expand_as(x)
            x = torch.where((u[:, 2] < self.grey_p)[:, None, None, None], grey, x)
        if self.noise > 0:
            x = x + self.noise * torch.randn(x.shape, generator=generator).to(x)
        if self.cutout > 0:
            k = min(self.cutout, h, w)
            top = torch.randint(0, h - k + 1, (b,), generator=generator)
            left = torch.randint(0, w - k + 1, (b,), generator=generator)
            rows = torch.arange(h)[None, :, None]
            cols = torch.arange(w)[None, None, :]
            hole = ((rows >= top[:, None, None]) & (rows < top[:, None, None] + k)
                    & (cols >= left[:, None, None]) & (cols < left[:, None, None] + k))
            x = x.masked_fill(hole[:, None].to(x.device), 0.0)
        return x.clamp(0.0, 1.0)


# --- encoder, projection head, features ----------------------------------------------------
class ConvEncoder(nn.Module):
    """A small CNN: conv blocks (GroupNorm, ReLU; stride 2 after the first) -> global mean.

    ``forward`` returns ``feature_dim`` features per image; ``head`` (optional) maps them to
    class logits, so the same module is the supervised classifier of the chapter.
    GroupNorm instead of BatchNorm: the same computation in train and eval mode and for any
    batch, which the adversarial attacks need.
    """

    def __init__(self, in_channels: int = 1, width: int = 32, n_blocks: int = 3,
                 num_classes: int | None = None) -> None:
        super().__init__()
        check_int("in_channels", in_channels, min_value=1)
        check_int("width", width, min_value=8)
        check_int("n_blocks", n_blocks, min_value=1)
        layers, c_in = [], in_channels
        for k in range(n_blocks):
            c_out = width * 2 ** k
            layers += [nn.Conv2d(c_in, c_out, 3, stride=1 if k == 0 else 2, padding=1),
                       nn.GroupNorm(8, c_out), nn.ReLU()]
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.feature_dim = c_in
        self.head = nn.Linear(c_in, num_classes) if num_classes else None

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, feature_dim)."""
        check_ndim("images", images, 4)
        return self.body(images).mean(dim=(2, 3))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features, or class logits when the encoder has a ``head``."""
        h = self.features(images)
        return self.head(h) if self.head is not None else h


class ProjectionHead(nn.Module):
    """SimCLR's g(.): Linear -> ReLU -> Linear; the loss sees g(h), the probe sees h."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


@torch.no_grad()
def embed(encoder: ConvEncoder, images: torch.Tensor, batch_size: int = 512,
          transform=None) -> torch.Tensor:
    """Frozen features of ``images`` (eval mode, no gradients), batch by batch."""
    was = encoder.training
    encoder.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size]
        out.append(encoder.features(transform(x) if transform is not None else x))
    encoder.train(was)
    return torch.cat(out)


# --- linear probe ----------------------------------------------------------------------
@dataclass
class ProbeResult:
    """A fitted linear probe: its accuracy on the evaluation set and the chosen C."""

    accuracy: float
    C: float  # inverse L2 strength, chosen on the validation features
    val_accuracy: float


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, val_x: torch.Tensor,
                 val_y: torch.Tensor, eval_x: torch.Tensor, eval_y: torch.Tensor,
                 Cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)) -> ProbeResult:
    """Multinomial logistic regression on frozen features; C chosen on validation.

    Features are standardised with the training features' mean and std. The probe with the
    best validation accuracy (ties: the stronger regularisation) is scored on ``eval``.
    """
    from sklearn.linear_model import LogisticRegression

    if len(train_x) != len(train_y):
        raise ValueError(f"{len(train_x)} training features but {len(train_y)} labels")
    if not Cs:
        raise ValueError("Cs must list at least one regularisation strength")
    mean = train_x.mean(0)
    std = train_x.std(0).clamp_min(1e-6) if len(train_x) > 1 else torch.ones_like(mean)
    prep = [((x - mean) / std).detach().double().cpu().numpy() for x in (train_x, val_x, eval_x)]
    ys = [y.cpu().numpy() for y in (train_y, val_y, eval_y)]
    best = None
    for C in sorted(Cs):
        clf = LogisticRegression(C=C, max_iter=2000)
        clf.fit(prep[0], ys[0])
        val = float((clf.predict(prep[1]) == ys[1]).mean())
        if best is None or val > best[0]:
            best = (val, C, clf)
    val, C, clf = best
    acc = float((clf.predict(prep[2]) == ys[2]).mean())
    return ProbeResult(acc, C, val)


def stratified_indices(labels: torch.Tensor, fraction: float, seed: int = 0) -> torch.Tensor:
    """A class-balanced ``fraction`` of positions (at least one per class)."""
    check_float("fraction", fraction, min_value=0.0, max_value=1.0, min_inclusive=False)
    if fraction >= 1.0:
        return torch.arange(len(labels))
    gen = np.random.default_rng(seed)
    keep = []
    y = labels.cpu().numpy()
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = max(1, int(round(fraction * len(idx))))
        keep.append(gen.choice(idx, size=k, replace=False))
    return torch.from_numpy(np.sort(np.concatenate(keep)))
