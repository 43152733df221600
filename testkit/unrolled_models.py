"""PyTorch models that unroll a recurrence by hand, in the shapes their
public authors use, for the tests of recurrences unrolled by hand.

- `Seq2Seq`: the seq2seq translation tutorial's encoder GRU and
  Bahdanau-attention decoder, whose GRU is called once per target step with
  teacher forcing (the translate demo's model, `demo.seq2seq`).
- `CaptionDecoder`: an image-captioning decoder on nn.LSTMCell with soft
  attention over a fixed feature map (h and c initialised from it).
- `RecurrentPolicy`: a recurrent policy stepped through episodes, its nn.GRU
  called once per step and its state zeroed where an episode starts (the
  recurrent PPO pattern: `h * (1 - done)`).
"""

from __future__ import annotations

import torch
from torch import nn

from demo import seq2seq

#: The seq2seq translation tutorial's shape, as the translate demo trains it.
Seq2Seq = seq2seq.Seq2Seq
seq2seq_loss = seq2seq.nll_loss


class CaptionDecoder(nn.Module):
    """Show-attend-tell style: an LSTMCell stepped over the caption, attending
    over (batch, regions, features) at every step."""

    def __init__(self, features: int, embed: int, hidden: int, vocab: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.init_h = nn.Linear(features, hidden)
        self.init_c = nn.Linear(features, hidden)
        self.encoder_att = nn.Linear(features, hidden)
        self.decoder_att = nn.Linear(hidden, hidden)
        self.full_att = nn.Linear(hidden, 1)
        self.decode_step = nn.LSTMCell(embed + features, hidden)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, feature_map, captions):
        mean = feature_map.mean(dim=1)
        h, c = self.init_h(mean), self.init_c(mean)
        embeddings = self.embedding(captions)
        logits = []
        for t in range(captions.size(1)):
            att = self.full_att(
                torch.relu(
                    self.encoder_att(feature_map) + self.decoder_att(h).unsqueeze(1)
                )
            ).squeeze(2)
            alpha = torch.softmax(att, dim=1)
            context = (feature_map * alpha.unsqueeze(2)).sum(dim=1)
            h, c = self.decode_step(
                torch.cat([embeddings[:, t], context], dim=1), (h, c)
            )
            logits.append(self.fc(h))
        return torch.stack(logits, dim=1)


class RecurrentPolicy(nn.Module):
    """A policy and value head on a GRU stepped once per environment step."""

    def __init__(self, observations: int, hidden: int, actions: int):
        super().__init__()
        self.hidden = hidden
        self.body = nn.Linear(observations, hidden)
        self.gru = nn.GRU(hidden, hidden)
        self.policy = nn.Linear(hidden, actions)
        self.value = nn.Linear(hidden, 1)

    def forward(self, observations, dones):
        """observations (steps, envs, obs); dones (steps, envs), 1.0 where an
        episode starts at that step."""
        steps, envs = dones.shape
        h = torch.zeros(1, envs, self.hidden)
        logits, values = [], []
        for t in range(steps):
            h = h * (1.0 - dones[t]).view(1, -1, 1)
            x = torch.relu(self.body(observations[t])).unsqueeze(0)
            out, h = self.gru(x, h)
            logits.append(self.policy(out[0]))
            values.append(self.value(out[0]))
        return torch.stack(logits), torch.stack(values)
