"""Clean: a tiny encoder-decoder on a dict batch {"src", "tgt", "y"}, called through the
harness's forward(model, batch). The encoder is bidirectional, the decoder causal with
cross-attention; both add learned positional embeddings.

build_model(decoder_mask=False) forgets the decoder's causal mask (future_leakage on
input="tgt"); build_model(src_positions=False) never adds the encoder's positions
(no_positional_information on input="src": the whole output ignores the source's order)."""

import torch
from torch import nn

VOCAB, SRC_LEN, TGT_LEN, WIDTH = 12, 6, 5, 32


class EncoderDecoder(nn.Module):
    def __init__(self, decoder_mask: bool, src_positions: bool):
        super().__init__()
        self.decoder_mask, self.src_positions = decoder_mask, src_positions
        self.embed = nn.Embedding(VOCAB, WIDTH)
        self.src_pos, self.tgt_pos = nn.Embedding(SRC_LEN, WIDTH), nn.Embedding(TGT_LEN, WIDTH)
        self.encoder = nn.TransformerEncoderLayer(WIDTH, 4, 64, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerDecoderLayer(WIDTH, 4, 64, dropout=0.0, batch_first=True)
        self.head = nn.Linear(WIDTH, VOCAB)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:  # (B, S), (B, T) -> (B, T, VOCAB)
        s = self.embed(src) + (self.src_pos.weight[: src.shape[1]] if self.src_positions else 0)
        t = self.embed(tgt) + self.tgt_pos.weight[: tgt.shape[1]]
        future = torch.triu(torch.ones(tgt.shape[1], tgt.shape[1], dtype=torch.bool), diagonal=1)
        memory = self.encoder(s)
        return self.head(self.decoder(t, memory, tgt_mask=future if self.decoder_mask else None))


def build_model(decoder_mask: bool = True, src_positions: bool = True):
    return EncoderDecoder(decoder_mask, src_positions)


def forward(model, batch):
    return model(batch["src"], batch["tgt"])


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    src = torch.randint(0, VOCAB, (batch_size, SRC_LEN), generator=g)
    out = torch.randint(0, VOCAB, (batch_size, TGT_LEN + 1), generator=g)
    return {"src": src, "tgt": out[:, :-1], "y": out[:, 1:]}
