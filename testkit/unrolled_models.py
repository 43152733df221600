"""PyTorch models that unroll a recurrence by hand, in the shapes their
public authors use, for the tests of recurrences unrolled by hand.

- `EncoderRNN` + `AttnDecoderRNN`: the seq2seq translation tutorial's
  encoder GRU and Bahdanau-attention decoder, whose GRU is called once per
  target step with teacher forcing.
- `CaptionDecoder`: an image-captioning decoder on nn.LSTMCell with soft
  attention over a fixed feature map (h and c initialised from it).
- `RecurrentPolicy`: a recurrent policy stepped through episodes, its nn.GRU
  called once per step and its state zeroed where an episode starts (the
  recurrent PPO pattern: `h * (1 - done)`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

SOS_TOKEN = 0


class EncoderRNN(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, dropout_p: float = 0.1):
        super().__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size: int):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(
        self, hidden_size: int, output_size: int, length: int, dropout_p: float = 0.1
    ):
        super().__init__()
        self.length = length
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.full((batch_size, 1), SOS_TOKEN, dtype=torch.long)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        for i in range(self.length):
            decoder_output, decoder_hidden, _ = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_outputs.append(decoder_output)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)  # teacher forcing
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()
        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        return F.log_softmax(decoder_outputs, dim=-1), decoder_hidden

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)
        return output, hidden, attn_weights


class Seq2Seq(nn.Module):
    """The tutorial's encoder and decoder, trained with teacher forcing."""

    def __init__(self, vocab: int, hidden: int, length: int):
        super().__init__()
        self.encoder = EncoderRNN(vocab, hidden)
        self.decoder = AttnDecoderRNN(hidden, vocab, length)

    def forward(self, source, target):
        encoder_outputs, encoder_hidden = self.encoder(source)
        return self.decoder(encoder_outputs, encoder_hidden, target)[0]


def seq2seq_loss(log_probs, target):
    return F.nll_loss(log_probs.reshape(-1, log_probs.size(-1)), target.reshape(-1))


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
