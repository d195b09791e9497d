"""Bug: the pad mask is applied on the query axis, (B, 1, T, 1) instead of (B, 1, 1, T): padded
positions stop attending, while real positions still attend to the padded keys, so their
outputs change with whatever the padding holds. check_dependencies at its defaults reports padding_leak."""

from dep_encoder_mlm import NEG, Encoder, EncoderAttention, forward, get_batch, loss_fn  # noqa: F401


class QueryMaskedAttention(EncoderAttention):
    def mask(self, scores, real):
        return scores.masked_fill(~real[:, None, :, None], NEG)


def build_model(layers: int = 2):
    return Encoder(QueryMaskedAttention, layers)
