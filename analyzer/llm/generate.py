"""Streaming generation with a transformers model: cancel at any token, token and time budgets.

Two ways to stream, both kept because the benchmark compares them against bare
``model.generate``:

* ``loop`` (default): a decode loop in the caller's thread: one forward pass per token over the
  KV cache, greedy or top-p sampling, the repetition penalty, incremental detokenizing. No thread,
  no queue, and the cancel token is checked before every forward pass.
* ``thread``: ``model.generate`` in a worker thread feeding a ``TextIteratorStreamer``, with a
  ``StoppingCriteria`` that checks the cancel token.

In ``loop`` mode greedy decoding can also check tokens guessed from the text so far in the same
forward pass (prompt lookup, ``Sampling.prompt_lookup``, :mod:`analyzer.llm.lookup`). It is off
by default: on the int8 CPU path it was faster but wrote other text (int8 activations are
quantized per forward pass, so a pass over several tokens shifts the numbers), and in fp32 it
wrote the same text but no faster (bench/generation.py --only lookup).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from analyzer.errors import Cancelled, ModelError
from analyzer.llm.base import (
    GREEDY,
    Message,
    Sampling,
    check_budget,
    reply,
    split_prefix,
)
from analyzer.llm.device import configure_thread
from analyzer.llm.engines import EngineChoice
from analyzer.llm.loader import LoadedModel, is_out_of_memory
from analyzer.llm.lookup import NgramLookup
from analyzer.progress import CancelToken

if TYPE_CHECKING:
    import torch


class TransformersGenerator:
    """A :class:`~analyzer.llm.base.Generator` over a loaded transformers model."""

    engine = "transformers"
    continues_reply = True  # a last assistant message is continued (see base.split_prefix)

    def __init__(
        self,
        loaded: LoadedModel,
        sampling: Sampling = GREEDY,
        choice: EngineChoice | None = None,
    ) -> None:
        if sampling.mode not in ("loop", "thread"):
            raise ValueError(f"unknown streaming mode {sampling.mode!r}: use loop or thread")
        self.loaded = loaded
        self.sampling = sampling
        self.choice = choice or EngineChoice("transformers", "按要求使用 transformers")
        self.finish_reason = ""  # after a stream: eos | max_tokens | time | repetition | cancelled
        self.last_token_count = 0
        self.last_prompt_tokens = 0
        self.last_accepted_guesses = 0  # prompt lookup: guessed tokens the model confirmed
        tok = loaded.tokenizer
        eos = {tok.eos_token_id} if tok.eos_token_id is not None else set()
        conf = getattr(loaded.model, "generation_config", None)
        extra = getattr(conf, "eos_token_id", None)
        eos |= set(extra) if isinstance(extra, list) else ({extra} if extra is not None else set())
        for special in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>"):
            tid = tok.convert_tokens_to_ids(special)
            if isinstance(tid, int) and tid != tok.unk_token_id and tid >= 0:
                eos.add(tid)
        self.eos_ids = frozenset(eos)

    @property
    def label(self) -> str:
        return f"{self.loaded.source} · transformers {self.loaded.placement.label}"

    def details(self) -> dict[str, Any]:
        """What ``models info`` shows about the engine and the loaded model."""
        loaded = self.loaded
        return {
            "engine": "transformers",
            "why": self.choice.reason,
            "source": str(loaded.source),
            "location": loaded.source.location,
            "folder": str(loaded.folder),
            "architecture": loaded.model.config.model_type,
            "placement": loaded.placement.label,
            "load_seconds": {k: round(v, 2) for k, v in loaded.seconds.items()},
            "converted_now": loaded.converted,
        }

    def encode(self, prompt_messages: Sequence[Message]) -> torch.Tensor:
        """The chat-formatted prompt as a (1, n) tensor of token ids on the model's device. A
        last message of the assistant is the start of the reply, which the model continues."""
        import torch

        messages, prefix = split_prefix(prompt_messages)
        text = (
            self.loaded.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            + prefix
        )
        ids = self.loaded.tokenizer(text, add_special_tokens=False)["input_ids"]
        return torch.tensor([ids], dtype=torch.long, device=self.loaded.model.device)

    def stream(
        self,
        prompt_messages: Sequence[Message],
        *,
        max_new_tokens: int,
        cancel: CancelToken | None = None,
        time_budget: float | None = None,
        sampling: Sampling | None = None,
    ) -> Iterator[str]:
        check_budget(max_new_tokens)
        s = sampling or self.sampling
        if s.mode not in ("loop", "thread"):
            raise ValueError(f"unknown streaming mode {s.mode!r}: use loop or thread")
        deadline = None if time_budget is None else time.monotonic() + time_budget
        self.finish_reason = ""
        self.last_token_count = 0
        self.last_accepted_guesses = 0
        ids = self.encode(prompt_messages)
        self.last_prompt_tokens = int(ids.shape[1])
        inner = (
            self._loop(ids, max_new_tokens, cancel, deadline, s)
            if s.mode == "loop"
            else self._thread(ids, max_new_tokens, cancel, deadline, s)
        )
        try:
            yield from reply(self, inner, s, cancel)
        except ModelError:
            raise
        except Exception as exc:
            if is_out_of_memory(exc):
                raise ModelError(
                    f"用 {self.loaded.source} 生成时内存不足：请调低 --max-tokens、关闭其他程序，"
                    "或换用更小的模型"
                ) from exc
            raise

    # ------------------------------------------------------------------------ loop mode

    def _loop(
        self,
        ids: torch.Tensor,
        max_new_tokens: int,
        cancel: CancelToken | None,
        deadline: float | None,
        sampling: Sampling,
    ) -> Iterator[str]:
        """One forward pass per token; with greedy prompt lookup, one pass may also check the
        tokens guessed from the text so far and keep those the model picks itself."""
        import torch

        model = self.loaded.model
        device = model.device
        rng = None
        if not sampling.greedy and sampling.seed is not None:
            rng = torch.Generator(device=device).manual_seed(sampling.seed)
        lookup = None
        if sampling.greedy and sampling.prompt_lookup > 0:
            lookup = NgramLookup(ids[0].tolist(), sampling.prompt_lookup)
        detok = _Detokenizer(self.loaded.tokenizer)
        configure_thread(self.loaded.placement, self.loaded.options)
        with torch.inference_mode():
            vocab = int(model.config.vocab_size)
            # The penalty applies to the reply only: copying the brief's facts (and their
            # digits) from the prompt must stay cheap.
            seen = torch.zeros(vocab, dtype=torch.bool, device=device)
            count = 0

            def take(token: int) -> str:
                """Add a chosen token to the reply: its text, and finish_reason if it ends it."""
                nonlocal count
                if token in self.eos_ids:
                    self.finish_reason = "eos"
                    return ""
                seen[token] = True
                count += 1
                self.last_token_count = count
                if lookup is not None:
                    lookup.push(token)
                if count == max_new_tokens:
                    self.finish_reason = "max_tokens"
                elif deadline is not None and time.monotonic() >= deadline:
                    self.finish_reason = "time"
                return detok.push(token)

            _check(cancel)
            cache_arg = _cache_argument(model)
            out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
            logits = out.logits[0, -1, :]
            while True:
                token = _pick(logits.float(), seen, sampling, rng)
                if piece := take(token):
                    yield piece
                if self.finish_reason:
                    break
                guesses = lookup.guess() if lookup is not None else []
                _check(cancel)
                feed = torch.tensor([[token, *guesses]], dtype=torch.long, device=device)
                out = model(
                    input_ids=feed,
                    use_cache=True,
                    logits_to_keep=feed.shape[1],
                    **{cache_arg: _cache_of(out)},
                )
                # Keep the guessed tokens the model would have written itself, up to the first
                # it would not have: the reply is the one plain greedy decoding writes.
                accepted = 0
                for i, guess in enumerate(guesses):
                    if _pick(out.logits[0, i, :].float(), seen, sampling, rng) != guess:
                        break
                    accepted += 1
                    if piece := take(guess):
                        yield piece
                    if self.finish_reason:
                        break
                if self.finish_reason:
                    break
                self.last_accepted_guesses += accepted
                if accepted < len(guesses):  # the wrong guesses leave the KV cache
                    _cache_of(out).crop(-(len(guesses) - accepted))
                logits = out.logits[0, accepted, :]
        if tail := detok.flush():
            yield tail

    # ------------------------------------------------------------------------ thread mode

    def _thread(
        self,
        ids: torch.Tensor,
        max_new_tokens: int,
        cancel: CancelToken | None,
        deadline: float | None,
        sampling: Sampling,
    ) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = threading.Event()  # set when the consumer stops reading
        reason: dict[str, str] = {}

        class Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                halt = stop.is_set() or (cancel is not None and cancel.cancelled)
                if not halt and deadline is not None and time.monotonic() >= deadline:
                    reason["why"] = "time"
                    halt = True
                return torch.full((input_ids.shape[0],), halt, dtype=torch.bool)

        streamer = TextIteratorStreamer(
            self.loaded.tokenizer, skip_prompt=True, skip_special_tokens=True
        )
        kwargs = self._generate_kwargs(max_new_tokens, sampling)
        failure: list[BaseException] = []
        counted: list[int] = []

        def work() -> None:
            try:
                configure_thread(self.loaded.placement, self.loaded.options)
                if not sampling.greedy and sampling.seed is not None:
                    torch.manual_seed(sampling.seed)
                with torch.inference_mode():
                    out = self.loaded.model.generate(
                        ids,
                        attention_mask=torch.ones_like(ids),
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([Stop()]),
                        **kwargs,
                    )
                counted.append(int(out.shape[1] - ids.shape[1]))
            except BaseException as exc:  # re-raised in the consumer's thread
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=work, name="generate", daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if cancel is not None and cancel.cancelled:
                    break  # pieces decoded before the cancel reached generate() are dropped
                yield piece
        finally:
            stop.set()
            worker.join()
        if failure:
            raise failure[0]
        self.last_token_count = counted[0] if counted else 0
        self.finish_reason = reason.get("why") or (
            "max_tokens" if self.last_token_count >= max_new_tokens else "eos"
        )

    def _generate_kwargs(self, max_new_tokens: int, s: Sampling) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "repetition_penalty": s.repetition_penalty,
            "eos_token_id": sorted(self.eos_ids),
            "pad_token_id": self.loaded.tokenizer.pad_token_id
            if self.loaded.tokenizer.pad_token_id is not None
            else min(self.eos_ids, default=0),
            "do_sample": s.temperature > 0,
        }
        if s.temperature > 0:
            kwargs.update(temperature=s.temperature, top_p=s.top_p, top_k=0)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs


def _cache_argument(model: Any) -> str:
    """The forward argument that takes the KV cache: ``cache`` since transformers 5.x renamed
    it (``past_key_values`` warns there and goes away in 5.40), ``past_key_values`` before."""
    import inspect

    try:
        params = inspect.signature(type(model).forward).parameters
    except (TypeError, ValueError):
        return "past_key_values"
    return "cache" if "cache" in params else "past_key_values"


def _cache_of(out: Any) -> Any:
    if "cache" in out:
        return out["cache"]
    return out.past_key_values


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise Cancelled()


def _pick(
    logits: torch.Tensor, seen: torch.Tensor, sampling: Sampling, rng: torch.Generator | None
) -> int:
    import torch

    p = sampling.repetition_penalty
    if p != 1.0:
        penalized = torch.where(logits < 0, logits * p, logits / p)
        logits = torch.where(seen[: logits.shape[0]], penalized, logits)
    if sampling.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / sampling.temperature, dim=-1)
    if sampling.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < sampling.top_p
        sorted_probs = torch.where(keep, sorted_probs, torch.zeros_like(sorted_probs))
        choice = torch.multinomial(sorted_probs, 1, generator=rng)
        return int(order[choice])
    return int(torch.multinomial(probs, 1, generator=rng))


class _Detokenizer:
    """Turns token ids into text pieces, holding back a half-decoded multi-byte character."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.tokens: list[int] = []
        self.emitted = 0

    def push(self, token: int) -> str:
        self.tokens.append(token)
        text = self.tokenizer.decode(self.tokens, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return ""
        piece = text[self.emitted :]
        if piece.endswith("\n"):
            # Start over after a line: decoding stays O(line), not O(reply), per token.
            self.tokens.clear()
            self.emitted = 0
        else:
            self.emitted = len(text)
        return piece

    def flush(self) -> str:
        if not self.tokens:
            return ""
        text = self.tokenizer.decode(self.tokens, skip_special_tokens=True)
        piece = text[self.emitted :].rstrip("\ufffd")
        self.tokens.clear()
        self.emitted = 0
        return piece
