"""The translate demo's model, shaped like PyTorch's seq2seq translation tutorial.

An `EncoderRNN` (Embedding, then an nn.GRU over the whole source in one call)
and an `AttnDecoderRNN` with Bahdanau (additive) attention over the encoder's
outputs, whose nn.GRU is called once per target step in a Python loop: with
teacher forcing (the true previous token as the next input) when a target is
given, greedily (its own previous prediction) otherwise. `Seq2Seq` wraps both
in one module, so their recurrences are `encoder.gru` and `decoder.gru`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from demo.reversal import SOS


class EncoderRNN(nn.Module):
    """Embedding, dropout, then one batch-first nn.GRU over the source."""

    def __init__(self, input_size: int, hidden_size: int, dropout_p: float = 0.1):
        super().__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(outputs (batch, length, hidden), last hidden state (1, batch, hidden))."""
        embedded = self.dropout(self.embedding(source))
        return self.gru(embedded)


class BahdanauAttention(nn.Module):
    """Additive attention: score(q, k) = v . tanh(W q + U k)."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(context (batch, 1, hidden), weights (batch, 1, length)) of a
        query (batch, 1, hidden) over keys (batch, length, hidden)."""
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        weights = F.softmax(scores.squeeze(2).unsqueeze(1), dim=-1)
        return torch.bmm(weights, keys), weights


class AttnDecoderRNN(nn.Module):
    """A GRU decoder that attends over the encoder outputs at every step.

    Each step embeds the previous token, attends with the previous hidden
    state as the query, and runs the GRU for one step on [embedding,
    context], starting from the encoder's last hidden state.
    """

    def __init__(
        self,
        hidden_size: int,
        output_size: int,
        max_length: int,
        dropout_p: float = 0.1,
    ):
        super().__init__()
        self.max_length = max_length
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(
        self,
        encoder_outputs: torch.Tensor,
        encoder_hidden: torch.Tensor,
        target: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log-probabilities (batch, steps, vocabulary), last hidden state,
        attention weights (batch, steps, source length)).

        Runs `target.size(1)` steps with teacher forcing if `target` is
        given, else `max_length` greedy steps.
        """
        batch = encoder_outputs.size(0)
        steps = self.max_length if target is None else target.size(1)
        decoder_input = torch.full((batch, 1), SOS, dtype=torch.long)
        hidden = encoder_hidden
        outputs, attentions = [], []
        for i in range(steps):
            output, hidden, weights = self.forward_step(
                decoder_input, hidden, encoder_outputs
            )
            outputs.append(output)
            attentions.append(weights)
            if target is not None:
                decoder_input = target[:, i].unsqueeze(1)  # teacher forcing
            else:
                decoder_input = output.argmax(-1).detach()
        log_probs = F.log_softmax(torch.cat(outputs, dim=1), dim=-1)
        return log_probs, hidden, torch.cat(attentions, dim=1)

    def forward_step(
        self, token: torch.Tensor, hidden: torch.Tensor, encoder_outputs: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step: (logits (batch, 1, vocabulary), hidden, attention weights)."""
        embedded = self.dropout(self.embedding(token))
        context, weights = self.attention(hidden.permute(1, 0, 2), encoder_outputs)
        output, hidden = self.gru(torch.cat((embedded, context), dim=2), hidden)
        return self.out(output), hidden, weights


class Seq2Seq(nn.Module):
    """`encoder` and `decoder` as one module: `model(source, target)` returns
    the decoder's log-probabilities (batch, steps, vocabulary)."""

    def __init__(self, vocabulary: int, hidden_size: int, length: int):
        super().__init__()
        self.encoder = EncoderRNN(vocabulary, hidden_size)
        self.decoder = AttnDecoderRNN(hidden_size, vocabulary, length)

    def forward(
        self, source: torch.Tensor, target: torch.Tensor | None = None
    ) -> torch.Tensor:
        encoder_outputs, encoder_hidden = self.encoder(source)
        return self.decoder(encoder_outputs, encoder_hidden, target)[0]

    @torch.no_grad()
    def translate(self, source: torch.Tensor) -> torch.Tensor:
        """Greedy decoding, in eval mode: token ids (batch, max_length)."""
        was_training = self.training
        self.eval()
        try:
            return self(source).argmax(-1)
        finally:
            self.train(was_training)


def nll_loss(log_probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of the target tokens, over every step."""
    return F.nll_loss(log_probs.flatten(0, 1), target.flatten())
