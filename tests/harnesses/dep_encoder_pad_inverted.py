"""Bug: the pad mask is inverted (masked_fill(real, ...) where masked_fill(~real, ...) is meant):
real positions attend only to the padding. check_dependencies at its defaults reports padding_leak."""

from dep_encoder_mlm import NEG, Encoder, EncoderAttention, forward, get_batch, loss_fn  # noqa: F401


class InvertedMaskAttention(EncoderAttention):
    def mask(self, scores, real):
        return scores.masked_fill(real[:, None, None, :], NEG)


def build_model(layers: int = 2):
    return Encoder(InvertedMaskAttention, layers)
