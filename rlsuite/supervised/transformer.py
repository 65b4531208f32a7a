"""The transformer, written out: multi-head self-attention, positional encoding, encoder and
decoder blocks, a ViT-style patch encoder (Vaswani et al. 2017; Dosovitskiy et al. 2021).

One model, two tasks, chosen by the data:

- images (digits, .npz, a folder): classification. The image is cut into patches, each patch
  flattened and projected to a token, a learned [CLS] token put in front; after the encoder
  blocks the [CLS] token's vector is classified (softmax over classes).
- token sequences (reverse, sort): next-token prediction. The encoder reads the source; the
  decoder, given [BOS] and the target so far, predicts the next target token, looking at the
  earlier target tokens through masked (causal) self-attention and at the source through
  cross-attention. Trained with teacher forcing, evaluated by greedy decoding: exact match is
  the share of sequences whose every token is right.

Attention maps (which patches [CLS] attends to; which source token each output attends to) are
logged to TensorBoard as images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rlsuite.config import (
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
    setting,
)
from rlsuite.errors import ConfigError
from rlsuite.supervised.cnn import classification_step, evaluate_classifier, random_shift
from rlsuite.supervised.data import SEQUENCE_TASKS, Batch, DataSpec, Split
from rlsuite.supervised.registry import Model, ModelConfig, image_grid


@dataclass(frozen=True)
class TransformerConfig(ModelConfig):
    d_model: int = setting(64, POSITIVE_INT)  # the width of every token vector
    n_heads: int = setting(4, POSITIVE_INT)  # attention heads; must divide d_model
    n_layers: int = setting(2, POSITIVE_INT)  # encoder blocks
    decoder_layers: int = setting(2, POSITIVE_INT)  # decoder blocks (sequence tasks)
    ff_size: int = setting(128, POSITIVE_INT)  # hidden width of each block's feed-forward net
    dropout: float = setting(0.1, PROBABILITY)
    patch_size: int = setting(2, POSITIVE_INT)  # image patches are patch_size x patch_size
    shift: int = setting(1, NON_NEGATIVE_INT)  # images: random translation by <= this many px
    learning_rate: float = setting(2e-3, POSITIVE)  # the peak, after the warm-up
    weight_decay: float = setting(1e-4, NON_NEGATIVE)
    # Steps of linear learning-rate warm-up, then a 1/sqrt(step) decay.
    warmup_steps: int = setting(200, NON_NEGATIVE_INT)


# ------------------------------------------------------------------------------------------------
# Attention
# ------------------------------------------------------------------------------------------------


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(Q K^T / sqrt(d_k)) V, and the attention weights.

    q: (B, h, Tq, d_k), k and v: (B, h, Tk, d_k); `mask` (broadcast to (B, h, Tq, Tk)) is True
    where a query may look. Dividing by sqrt(d_k) keeps the dot products' variance near 1, so
    the softmax does not saturate as d_k grows.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, h, Tq, Tk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # exp(-inf) = 0: no weight
    weights = F.softmax(scores, dim=-1)  # each query's weights over the keys sum to 1
    return weights @ v, weights  # (B, h, Tq, d_k), (B, h, Tq, Tk)


def causal_mask(length: int, device: torch.device | None = None) -> torch.Tensor:
    """(T, T), True on and below the diagonal: position t sees positions 0..t, never later."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


class MultiHeadAttention(nn.Module):
    """h heads of scaled dot-product attention over learned projections Q, K and V.

    Each head attends in its own d_model / h dimensional subspace; their outputs are
    concatenated and projected back to d_model. The last weights are kept in `weights` for the
    attention maps.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ConfigError(f"n_heads ({n_heads}) must divide d_model ({d_model})")
        self.n_heads, self.d_k = n_heads, d_model // n_heads
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)
        self.weights: torch.Tensor | None = None

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, self.d_k).transpose(1, 2)  # (B, h, T, d_k)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Queries from `x` (B, Tq, d), keys and values from `context` (B, Tk, d): self-attention
        when `context` is `x`, cross-attention when it is the encoder's output."""
        q = self._heads(self.query(x))
        k = self._heads(self.key(context))
        v = self._heads(self.value(context))
        heads, weights = scaled_dot_product_attention(q, k, v, mask)
        self.weights = weights.detach()
        b, _, t, _ = heads.shape
        joined = heads.transpose(1, 2).reshape(b, t, self.n_heads * self.d_k)  # (B, Tq, d)
        return self.dropout(self.out(joined))


def feed_forward(d_model: int, ff_size: int, dropout: float) -> nn.Sequential:
    """The position-wise feed-forward net: the same two-layer MLP on every token."""
    return nn.Sequential(
        nn.Linear(d_model, ff_size), nn.ReLU(), nn.Linear(ff_size, d_model), nn.Dropout(dropout)
    )


def sinusoidal_positional_encoding(length: int, d_model: int) -> torch.Tensor:
    """(T, d): PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d)).

    Attention alone ignores order; adding these waves of different lengths gives every
    position its own code, and nearby positions similar codes.
    """
    position = torch.arange(length, dtype=torch.float32)[:, None]  # (T, 1)
    frequency = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2) / d_model)  # (d/2,)
    encoding = torch.zeros(length, d_model)
    encoding[:, 0::2] = torch.sin(position * frequency)
    encoding[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
    return encoding


# ------------------------------------------------------------------------------------------------
# Blocks
# ------------------------------------------------------------------------------------------------


class EncoderBlock(nn.Module):
    """Self-attention, residual, layer norm, feed-forward, residual, layer norm."""

    def __init__(self, d_model: int, n_heads: int, ff_size: int, dropout: float) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(d_model, n_heads, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.feed_forward = feed_forward(d_model, ff_size, dropout)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.norm1(x + self.attention(x, x, mask))  # (B, T, d)
        return self.norm2(x + self.feed_forward(x))


class DecoderBlock(nn.Module):
    """Masked self-attention, cross-attention to the encoder, feed-forward; each followed by a
    residual connection and layer norm."""

    def __init__(self, d_model: int, n_heads: int, ff_size: int, dropout: float) -> None:
        super().__init__()
        self.self_attention = MultiHeadAttention(d_model, n_heads, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.cross_attention = MultiHeadAttention(d_model, n_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = feed_forward(d_model, ff_size, dropout)
        self.norm3 = nn.LayerNorm(d_model)

    def forward(self, y: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """`y` (B, Tt, d): the target tokens so far; `memory` (B, Ts, d): the encoded source."""
        mask = causal_mask(y.shape[1], y.device)  # target position t sees targets 0..t only
        y = self.norm1(y + self.self_attention(y, y, mask))
        y = self.norm2(y + self.cross_attention(y, memory))  # every target sees all the source
        return self.norm3(y + self.feed_forward(y))


def encoder_stack(config: TransformerConfig) -> nn.ModuleList:
    return nn.ModuleList(
        EncoderBlock(config.d_model, config.n_heads, config.ff_size, config.dropout)
        for _ in range(config.n_layers)
    )


# ------------------------------------------------------------------------------------------------
# The two networks
# ------------------------------------------------------------------------------------------------


class PatchEncoder(nn.Module):
    """ViT's input: the image cut into p x p patches, each flattened and projected to a token;
    a learned [CLS] token in front; positional encodings added."""

    def __init__(self, shape: tuple[int, ...], patch_size: int, d_model: int) -> None:
        super().__init__()
        channels, height, width = shape
        if height % patch_size or width % patch_size:
            raise ConfigError(
                f"patch_size {patch_size} does not divide the {height}x{width} images"
            )
        self.patch_size = patch_size
        self.grid = (height // patch_size, width // patch_size)
        self.projection = nn.Linear(channels * patch_size * patch_size, d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
        n_tokens = 1 + self.grid[0] * self.grid[1]
        self.register_buffer("position", sinusoidal_positional_encoding(n_tokens, d_model))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        b, c, _, _ = images.shape
        p = self.patch_size
        patches = images.unfold(2, p, p).unfold(3, p, p)  # (B, C, gh, gw, p, p)
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(b, -1, c * p * p)  # (B, N, C*p*p)
        tokens = torch.cat([self.cls.expand(b, -1, -1), self.projection(patches)], dim=1)
        return tokens + self.position  # (B, 1 + N, d)


class VisionTransformer(nn.Module):
    """Patch encoder -> encoder blocks -> the [CLS] vector -> class logits."""

    def __init__(self, config: TransformerConfig, shape: tuple[int, ...], num_classes: int):
        super().__init__()
        self.patches = PatchEncoder(shape, config.patch_size, config.d_model)
        self.blocks = encoder_stack(config)
        self.head = nn.Linear(config.d_model, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = self.patches(images)
        for block in self.blocks:
            x = block(x)
        return x[:, 0]  # (B, d): the [CLS] token

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))  # (B, num_classes)


class Seq2SeqTransformer(nn.Module):
    """Encoder over the source, decoder over [BOS] + the target so far -> next-token logits."""

    def __init__(self, config: TransformerConfig, vocab_size: int, max_length: int) -> None:
        super().__init__()
        self.bos = vocab_size  # one extra token starts every target
        self.d_model = config.d_model
        self.source_embedding = nn.Embedding(vocab_size, config.d_model)
        self.target_embedding = nn.Embedding(vocab_size + 1, config.d_model)
        self.register_buffer(
            "position", sinusoidal_positional_encoding(max_length + 1, config.d_model)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = encoder_stack(config)
        self.decoder = nn.ModuleList(
            DecoderBlock(config.d_model, config.n_heads, config.ff_size, config.dropout)
            for _ in range(config.decoder_layers)
        )
        self.head = nn.Linear(config.d_model, vocab_size)

    def _embed(self, embedding: nn.Embedding, tokens: torch.Tensor) -> torch.Tensor:
        # sqrt(d) scaling as in Vaswani et al., so the embedding is not drowned by the encoding
        x = embedding(tokens) * math.sqrt(self.d_model) + self.position[: tokens.shape[1]]
        return self.dropout(x)  # (B, T, d)

    def encode(self, source: torch.Tensor) -> torch.Tensor:
        memory = self._embed(self.source_embedding, source)
        for block in self.encoder:
            memory = block(memory)
        return memory  # (B, Ts, d)

    def decode(self, decoder_input: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Next-token logits (B, Tt, vocab) at every position of `decoder_input` ([BOS] + the
        target so far); position t's logits depend on decoder_input[:, :t + 1] only."""
        y = self._embed(self.target_embedding, decoder_input)
        for block in self.decoder:
            y = block(y, memory)
        return self.head(y)

    def shifted(self, target: torch.Tensor) -> torch.Tensor:
        """Teacher forcing's decoder input: [BOS] + target[:-1]."""
        bos = torch.full_like(target[:, :1], self.bos)
        return torch.cat([bos, target[:, :-1]], dim=1)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.decode(self.shifted(target), self.encode(source))  # (B, Tt, vocab)

    @torch.no_grad()
    def generate(self, source: torch.Tensor, length: int) -> torch.Tensor:
        """Greedy decoding: each step feeds back the most likely next token. (B, length)."""
        memory = self.encode(source)
        tokens = torch.full_like(source[:, :1], self.bos)
        for _ in range(length):
            logits = self.decode(tokens, memory)[:, -1]  # (B, vocab): the next token's
            tokens = torch.cat([tokens, logits.argmax(-1, keepdim=True)], dim=1)
        return tokens[:, 1:]


# ------------------------------------------------------------------------------------------------
# The model
# ------------------------------------------------------------------------------------------------


def warmup_then_inverse_sqrt(step: int, warmup: int) -> float:
    """Vaswani et al.'s learning-rate schedule, as a factor of the base rate: a linear rise over
    `warmup` steps (post-norm transformers diverge easily at first), then a decay with
    1/sqrt(step), which needs no total step count. warmup=0: a constant rate."""
    if warmup == 0:
        return 1.0
    step += 1
    return min(step / warmup, (warmup / step) ** 0.5)


class Transformer(Model):
    """A ViT classifier on images, an encoder-decoder next-token model on token sequences."""

    name = "transformer"
    description = (
        "multi-head self-attention written out; ViT patch encoder for image classification, "
        "encoder-decoder next-token prediction on --data reverse|sort"
    )
    Config = TransformerConfig
    data_kinds = ("images", "tokens")
    needs_labels = True
    default_epochs = 100
    selection = ("accuracy", "max")

    @classmethod
    def epochs_for(cls, data: str) -> int:
        # The sequence tasks hold 28,000 training sequences: ten passes are 4,380 steps.
        return 10 if data in SEQUENCE_TASKS else cls.default_epochs

    def build(self, spec: DataSpec) -> None:
        c = self.config
        if spec.kind == "images":
            self.net = VisionTransformer(c, spec.shape, spec.num_classes).to(self.device)
            self.feature_size = c.d_model
        else:
            length = max(spec.shape[0], spec.target_length)
            self.net = Seq2SeqTransformer(c, spec.vocab_size, length).to(self.device)
        self.optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=c.learning_rate, weight_decay=c.weight_decay
        )
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: warmup_then_inverse_sqrt(step, c.warmup_steps)
        )

    def train_step(self, batch: Batch) -> dict[str, float]:
        if self.spec.kind == "images":
            x = random_shift(batch.x, self.config.shift, self.generator)
            metrics = classification_step(self.net, self.optimizer, x, batch.y)
        else:
            logits = self.net(batch.x, batch.y)  # (B, T, vocab)
            loss = F.cross_entropy(logits.flatten(0, 1), batch.y.flatten())
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
            self.optimizer.step()
            metrics = {"loss": loss.item()}
        self.schedule.step()
        return metrics

    def evaluate(self, split: Split) -> dict[str, float]:
        if self.spec.kind == "images":
            return evaluate_classifier(self, self.net, split)
        return self._evaluate_sequences(split)

    @torch.no_grad()
    def _evaluate_sequences(self, split: Split) -> dict[str, float]:
        """Teacher-forced loss; token and exact-match accuracy of greedy decoding."""
        self.net.eval()
        loss, tokens_right, sequences_right = 0.0, 0, 0
        for x, y in self.batches(split, batch_size=512):
            logits = self.net(x, y)
            loss += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
            right = self.net.generate(x, y.shape[1]) == y  # (B, T)
            tokens_right += right.sum().item()
            sequences_right += right.all(dim=1).sum().item()
        self.net.train()
        n, length = len(split), split.y.shape[1]
        return {
            "loss": loss / (n * length),
            "accuracy": sequences_right / n,  # exact match: the whole sequence right
            "token_accuracy": tokens_right / (n * length),
        }

    @torch.no_grad()
    def images(self, split: Split) -> dict[str, torch.Tensor]:
        """Attention maps of the last block, averaged over heads, for 8 validation examples."""
        self.net.eval()
        x = split.x[:8].to(self.device)
        if self.spec.kind == "images":
            self.net(x)
            weights = self.net.blocks[-1].attention.weights.mean(1)  # (B, 1+N, 1+N)
            cls_to_patches = weights[:, 0, 1:].reshape(-1, 1, *self.net.patches.grid)
            cls_to_patches = cls_to_patches / cls_to_patches.amax((2, 3), keepdim=True)
            size = x.shape[-2:]
            maps = F.interpolate(cls_to_patches, size=size, mode="nearest")  # (B, 1, H, W)
            pictures = x[:, :3] if x.shape[1] >= 3 else x.expand(-1, 3, -1, -1)
            maps = maps.expand(-1, 3, -1, -1)
            pairs = torch.stack([pictures, maps], dim=1).flatten(0, 1)  # image, map, image, ...
            grid = image_grid(pairs, columns=4, scale=max(1, 64 // size[0]))
            result = {"attention/cls_to_patches": grid}
        else:
            y = split.y[:8].to(self.device)
            self.net(x, y)
            weights = self.net.decoder[-1].cross_attention.weights.mean(1)  # (B, Tt, Ts)
            maps = weights[:, None] / weights.amax((1, 2), keepdim=True)[:, None]
            grid = image_grid(maps.expand(-1, 3, -1, -1), columns=4, scale=8)
            result = {"attention/target_to_source": grid}
        self.net.train()
        return result

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.spec.kind != "images":
            raise NotImplementedError("the sequence transformer is not an image encoder")
        self.net.eval()
        out = self.net.features(x.to(self.device))
        self.net.train()
        return out
