"""The transformer: attention as the lecture writes it, causal masks that never look ahead,
and both tasks able to fit a small batch."""

from __future__ import annotations

import pytest
import torch

from rlsuite.supervised.data import Batch, Split, load_dataset
from rlsuite.supervised.transformer import (
    MultiHeadAttention,
    Transformer,
    TransformerConfig,
    causal_mask,
    scaled_dot_product_attention,
)

SMALL = dict(d_model=32, n_heads=4, ff_size=64, dropout=0.0, warmup_steps=0, shift=0)


def test_attention_weights_are_a_softmax_and_the_causal_mask_zeroes_the_future():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 2, 5, 8).unbind(0)
    out, weights = scaled_dot_product_attention(q, k, v, causal_mask(5))
    assert torch.allclose(weights.sum(-1), torch.ones(2, 2, 5))
    assert torch.all(weights.triu(1) == 0)
    scores = (q @ k.transpose(-2, -1) / 8**0.5).masked_fill(~causal_mask(5), float("-inf"))
    assert torch.allclose(out, scores.softmax(-1) @ v, atol=1e-6)


def test_causal_self_attention_never_looks_ahead():
    torch.manual_seed(0)
    attention = MultiHeadAttention(16, 4, dropout=0.0)
    x = torch.randn(2, 6, 16)
    changed = x.clone()
    changed[:, 4] += 5.0  # change token 4
    mask = causal_mask(6)
    before, after = attention(x, x, mask), attention(changed, changed, mask)
    assert torch.equal(before[:, :4], after[:, :4])  # positions 0-3 cannot see token 4
    assert not torch.allclose(before[:, 4:], after[:, 4:])  # positions 4-5 do


def test_the_decoder_never_looks_ahead_at_later_target_tokens():
    data = load_dataset("reverse")
    model = Transformer(TransformerConfig(**SMALL), data.spec, seed=0)
    model.net.eval()
    source, target = data.val.x[:4], data.val.y[:4]
    memory = model.net.encode(source)
    decoder_input = model.net.shifted(target)
    changed = decoder_input.clone()
    changed[:, 5] = (changed[:, 5] + 3) % data.spec.vocab_size
    before, after = model.net.decode(decoder_input, memory), model.net.decode(changed, memory)
    assert torch.equal(before[:, :5], after[:, :5])
    assert not torch.allclose(before[:, 5:], after[:, 5:])


def test_the_patch_transformer_overfits_one_small_batch_of_digits():
    data = load_dataset("digits")
    model = Transformer(TransformerConfig(**SMALL, patch_size=4), data.spec, seed=0)
    batch = Batch(data.train.x[:32], data.train.y[:32])
    for _ in range(150):
        model.train_step(batch)
    result = model.evaluate(Split(*batch))
    assert result["accuracy"] == 1.0 and result["loss"] < 0.05
    maps = model.images(data.val)["attention/cls_to_patches"]
    assert maps.shape[0] == 3 and maps.min() >= 0 and maps.max() <= 1


def test_the_next_token_model_overfits_one_small_batch_of_sequences():
    data = load_dataset("sort")
    model = Transformer(TransformerConfig(**SMALL, learning_rate=3e-3), data.spec, seed=0)
    batch = Batch(data.train.x[:16], data.train.y[:16])
    for _ in range(200):
        model.train_step(batch)
    result = model.evaluate(Split(*batch))  # greedy decoding, token by token
    assert result["accuracy"] == 1.0  # every sequence exactly right


def test_a_patch_size_that_does_not_divide_the_image_is_a_config_error():
    data = load_dataset("digits")
    with pytest.raises(ValueError, match="patch_size 3 does not divide the 8x8 images"):
        Transformer(TransformerConfig(patch_size=3), data.spec)
