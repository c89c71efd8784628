"""How much a reply is about what the citizen wrote: TF-IDF cosine plus coverage of key terms and places.

Rules:
- Text is cut into words with jieba (precise mode); Latin words are lower-cased and crudely
  stemmed (lights → light); single Chinese characters, numbers, pseudonymous user ids
  ("UU008249") and the search stop words are dropped.
- Document frequencies come from `data/idf.tsv`, built by `bench/replies.py --write-idf` from
  the messages and replies of the Teddy Cup 2020 data (attachments 3 and 4; no labels used).
  A word the table does not know counts as rare (df = 1). The table is read once per process.
- Only the first `MAX_CHARS` characters of each text are segmented (time: the score is computed
  when the case page renders; about 1 text in 100 of the Teddy Cup data is longer).
- Cosine of sublinear-tf × idf vectors; a reply that repeats the message's own words reaches
  about 0.3 to 0.5, so the cosine is scaled by `COSINE_FULL` and capped at 1.
- Key terms: the message's `KEY_TERMS` rarest words; a key term is covered when the reply
  contains it (Chinese: as a substring, so segmentation differences do not matter).
- Places: words of the message that end like a place (街, 路, 村, 小区…, Street, Road…); a place is
  covered when the reply names it, with or without the suffix (和平街 or 和平).
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from govcrm.cases.search import STOPWORDS

IDF_PATH = Path(__file__).resolve().parent / "data" / "idf.tsv"
COSINE_FULL = 0.35
KEY_TERMS = 6
MAX_CHARS = 2000  # of the message and of the reply, for the cosine and the key terms

_WORD = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ID_LIKE = re.compile(r"^[a-z]*\d[0-9a-z]*$")  # user ids, anonymised codes ("a3"), numbers
# Words that carry no topic in a hotline message or its reply (beyond the search stop words).
_NOISE_TEXT = (
    "问题 反映 您好 你好 网友 留言 情况 相关 有关 我们 你们 他们 现在 已经 没有 什么 这个 那个 一些 进行 "
    "希望 请问 请求 咨询 投诉 举报 建议 感谢 谢谢 关注 支持 工作 回复 如下 收悉 部门 领导 政府 "
    "hello dear thank thanks you your we our they them have has had will would can could not no "
    "about regarding reply message issue problem"
)
_NOISE = frozenset(_NOISE_TEXT.split())
_PLACE_SUFFIXES = (
    "小区", "社区", "新城", "花园", "大道", "广场", "大厦", "公园", "学校", "小学", "中学", "医院", "市场",
    "车站", "街道", "路", "街", "巷", "村", "镇", "乡", "苑", "庄", "湾", "桥",
)
_ADMIN_PREFIX = re.compile(r"^[县区镇市乡省]")
_EN_PLACE = re.compile(
    r"\b(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Drive|Park|Square|Boulevard|Way|Bridge)\b"
)


@functools.cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _stem(word: str) -> str:
    if not word.isascii() or len(word) <= 4:
        return word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    return word


def tokens(text: str) -> list[str]:
    """The topic words of `text`, in order, repeated as often as they occur."""
    out = []
    for piece in _jieba().cut((text or "").lower()):
        for word in _WORD.findall(piece):
            if word in STOPWORDS or word in _NOISE or _ID_LIKE.match(word):
                continue
            if _CJK.match(word) and len(word) < 2:
                continue
            if word.isascii() and len(word) < 3:
                continue
            out.append(_stem(word))
    return out


@dataclass(frozen=True)
class IdfTable:
    documents: int
    df: dict[str, int]

    def idf(self, word: str) -> float:
        return math.log((1 + self.documents) / (1 + self.df.get(word, 1))) + 1


def idf_table_build(texts: Iterable[str], *, min_df: int = 2) -> IdfTable:
    df: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        df.update(set(tokens(text)))
    return IdfTable(n, {w: c for w, c in df.items() if c >= min_df})


def idf_table_write(table: IdfTable, path: Path = IDF_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"#documents\t{table.documents}"]
    lines += [f"{w}\t{c}" for w, c in sorted(table.df.items(), key=lambda wc: (-wc[1], wc[0]))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@functools.cache
def idf_table() -> IdfTable:
    """The shipped table, read once per process."""
    lines = IDF_PATH.read_text(encoding="utf-8").splitlines()
    documents = int(lines[0].split("\t")[1])
    df = {}
    for line in lines[1:]:
        word, count = line.split("\t")
        df[word] = int(count)
    return IdfTable(documents, df)


def _vector(words: list[str], table: IdfTable) -> dict[str, float]:
    return {w: (1 + math.log(c)) * table.idf(w) for w, c in Counter(words).items()}


def cosine(a: list[str], b: list[str], table: IdfTable | None = None) -> float:
    table = table or idf_table()
    va, vb = _vector(a, table), _vector(b, table)
    dot = sum(x * vb[w] for w, x in va.items() if w in vb)
    if not dot:
        return 0.0
    return dot / (math.sqrt(sum(x * x for x in va.values())) * math.sqrt(sum(x * x for x in vb.values())))


def key_terms(words: list[str], table: IdfTable | None = None, k: int = KEY_TERMS) -> list[str]:
    """The message's `k` words of highest tf-idf (ties: first mentioned first)."""
    table = table or idf_table()
    weights = _vector(words, table)
    order = {w: i for i, w in reversed(list(enumerate(words)))}
    return sorted(weights, key=lambda w: (-weights[w], order[w]))[:k]


def places(text: str) -> list[str]:
    """Place names in a message: 和平街, 麻林村, 丽发新城小区, Elm Street."""
    found: list[str] = []
    pieces = [p for p in _jieba().cut(text or "") if p.strip()]
    for i, piece in enumerate(pieces):
        if not _CJK.match(piece):
            continue
        name = piece
        if piece in ("小区", "社区", "花园", "新城") and i and _CJK.match(pieces[i - 1]) and len(pieces[i - 1]) >= 2:
            name = pieces[i - 1] + piece
        elif len(piece) > 3:
            name = _ADMIN_PREFIX.sub("", piece)
        if len(name) >= 3 and name.endswith(_PLACE_SUFFIXES) and name not in found:
            found.append(name)
    for match in _EN_PLACE.finditer(text or ""):
        if match.group(0) not in found:
            found.append(match.group(0))
    return found


def _core(place: str) -> str:
    for suffix in _PLACE_SUFFIXES:
        if place.endswith(suffix) and len(place) - len(suffix) >= 2:
            return place[: -len(suffix)]
    return place


def mentions(reply: str, word: str) -> bool:
    """Whether the reply contains the word (Latin: any word starting with its stem)."""
    if word.isascii():
        return re.search(r"\b" + re.escape(word.lower()), reply.lower()) is not None
    return word in reply


def place_mentioned(reply: str, place: str) -> bool:
    if place.isascii():
        first = place.split()[0]
        return mentions(reply, first)
    return place in reply or _core(place) in reply
