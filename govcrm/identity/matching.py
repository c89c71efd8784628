"""The matching model: Splink (Fellegi-Sunter, EM-trained) on an in-memory DuckDB.

Rules (ADR 0021 explains the choices):
- Input is a list of `Candidate` rows with clear values. They live only in this process and in an
  in-memory DuckDB connection that never spills to disk (temp_directory is empty) and is closed
  at the end of the run, so a decrypted ID number or phone never reaches a file.
- Five comparisons, each with a null level for a missing value (neither for nor against):
  name (exact with term-frequency adjustment for common names, one character different, Jaro-Winkler
  over characters ≥ 0.8), resident ID (exact, one edit: swapped digits), phone (exact, one edit),
  birth date (exact, one digit; taken from the ID when the record has none), address (exact after
  normalisation, token overlap ≥ 0.6, ≥ 0.3). `LEVELS` holds their labels for reviewers.
- Blocking rules (which pairs are scored at all): same ID; same phone; same name and birth date;
  same surname and birth date; same name and the first two address tokens; same name and the last
  four digits of the phone. Every planted duplicate in the benchmark shares at least one of them.
- u probabilities from random sampling, m probabilities by expectation maximisation on two blocks
  (same ID; same name and birth date), the prior from the ID and phone rules. Below
  `MIN_TRAINING_RECORDS` records the shipped model (`data/model.json`) is used instead of training.
- A pair is proposed when its match probability reaches `threshold` (default 0.95), unless both
  records carry resident IDs that differ by more than a typo: a resident ID is one person's for
  life, so such a pair (a parent and child of the same name at one address) is never proposed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from . import normalise

FIELDS = ("name", "id_number", "phone", "birth_date", "address")
MIN_TRAINING_RECORDS = 1_000
SHIPPED_MODEL = Path(__file__).with_name("data") / "model.json"  # packaged with data/* (pyproject)

# Per field, the labels of its comparison levels from the best (highest gamma) to "different" (0);
# gamma -1 is "missing on one side". Shown to reviewers next to each level's match weight.
LEVELS: dict[str, list] = {
    "name": [_("same name"), _("one character different"), _("similar name (Jaro-Winkler ≥ 0.8)"),
             _("different name")],
    "id_number": [_("same ID number"), _("ID number one digit or a swap apart"), _("different ID number")],
    "phone": [_("same phone"), _("phone one or two digits apart (a swap)"), _("different phone")],
    "birth_date": [_("same birth date"), _("birth date one digit apart"), _("different birth date")],
    "address": [_("same address"), _("most address parts shared"), _("some address parts shared"),
                _("different address")],
}
MISSING = _("missing on one side")
FIELD_LABELS = {"name": _("Name"), "id_number": _("Resident ID"), "phone": _("Phone"),
                "birth_date": _("Birth date"), "address": _("Address")}

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One record to compare: `key` is "c:<citizen id>" or "r:<resident record id>"."""

    key: str
    name: str = ""
    id_number: str = ""
    phone: str = ""
    birth_date: str = ""
    address: str = ""


@dataclasses.dataclass(frozen=True)
class Pair:
    left: str
    right: str
    match_weight: float
    match_probability: float
    levels: dict[str, int]  # field → gamma (-1 missing, 0 different … best)
    weights: dict[str, float]  # field → the level's match weight (log2 Bayes factor)


def level_label(field: str, gamma: int) -> str:
    if gamma < 0:
        return str(MISSING)
    labels = LEVELS[field]
    return str(labels[len(labels) - 1 - gamma])


def _frame(candidates: Iterable[Candidate]):
    import pandas as pd

    rows = []
    for c in candidates:
        name = normalise.name(c.name)
        id_number = normalise.id_number(c.id_number)
        address = normalise.address(c.address)
        tokens = normalise.address_tokens(address)
        hi, lo = _signature(tokens)
        phone = normalise.phone(c.phone)
        rows.append({
            "unique_id": c.key,
            "name": name or None,
            "surname": normalise.surname(name) or None,
            "id_number": id_number or None,
            "phone": phone or None,
            "phone_tail": phone[-4:] or None,
            "birth_date": c.birth_date or normalise.birth_from_id(id_number) or None,
            "address": address or None,
            "addr_hi": hi,
            "addr_lo": lo,
            "addr_head": "".join(tokens[:2]) or None,
        })
    frame = pd.DataFrame(rows, columns=["unique_id", "name", "surname", "id_number", "phone", "phone_tail",
                                        "birth_date", "address", "addr_hi", "addr_lo", "addr_head"])
    frame["addr_hi"] = frame["addr_hi"].astype("uint64")
    frame["addr_lo"] = frame["addr_lo"].astype("uint64")
    return frame


@functools.lru_cache(maxsize=200_000)
def _token_bit(token: str) -> int:
    return 1 << (int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big") % 128)


def _signature(tokens: list[str]) -> tuple[int, int]:
    """A 128-bit signature of a token set (one bit per token), as two unsigned 64-bit halves."""
    bits = 0
    for token in tokens:
        bits |= _token_bit(token)  # districts and streets recur: hash each token once
    return bits >> 64, bits & (2**64 - 1)


def _overlap(threshold: float) -> str:
    """Token overlap (Jaccard) of two addresses from their signatures: |A ∩ B| / |A ∪ B| ≥ threshold.

    Bit operations instead of DuckDB's list_intersect, which costs ~100 times more per pair; two
    tokens rarely share a bit (8 tokens in 128 bits), so the estimate is close to the exact overlap.
    """
    inter = "(bit_count(addr_hi_l & addr_hi_r) + bit_count(addr_lo_l & addr_lo_r))"
    union = "(bit_count(addr_hi_l | addr_hi_r) + bit_count(addr_lo_l | addr_lo_r))"
    return f"{inter} >= {threshold} * {union}"


def _near(column: str, most: int) -> str:
    """Same length and at most `most` characters differ: a wrong digit (1) or two swapped digits (2)."""
    return f"length({column}_l) = length({column}_r) AND hamming({column}_l, {column}_r) <= {most}"


def settings():
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons = [
        cl.CustomComparison(output_column_name="name", comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name", term_frequency_adjustments=True),
            cll.CustomLevel(_near("name", 1), label_for_charts="one character different"),
            cll.JaroWinklerLevel("name", 0.8),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="id_number", comparison_levels=[
            cll.NullLevel("id_number"), cll.ExactMatchLevel("id_number"),
            # The check character catches every single wrong digit and swap, so a wrong number that was
            # still accepted differs in its check character too: compare the first 17 characters.
            cll.CustomLevel("hamming(substr(id_number_l, 1, 17), substr(id_number_r, 1, 17)) <= 2",
                            label_for_charts="one digit or a swap apart"),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="phone", comparison_levels=[
            cll.NullLevel("phone"), cll.ExactMatchLevel("phone"),
            cll.CustomLevel(_near("phone", 2), label_for_charts="one or two digits apart"),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="birth_date", comparison_levels=[
            cll.NullLevel("birth_date"), cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(_near("birth_date", 1), label_for_charts="one digit apart"), cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="address", comparison_levels=[
            cll.CustomLevel("address_l IS NULL OR address_r IS NULL").configure(is_null_level=True),
            cll.ExactMatchLevel("address"),
            cll.CustomLevel(_overlap(0.6), label_for_charts="address tokens overlap >= 0.6"),
            cll.CustomLevel(_overlap(0.3), label_for_charts="address tokens overlap >= 0.3"),
            cll.ElseLevel(),
        ]),
    ]
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("phone"),
            block_on("name", "birth_date"),
            block_on("surname", "birth_date"),
            block_on("name", "addr_head"),
            block_on("name", "phone_tail"),
            block_on("birth_date", "addr_head"),
            block_on("address"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,  # the Bayes factors, for the reviewer's table
    )


def _connection():
    import duckdb

    # In memory, and no spilling of intermediate results to a temporary file: clear values never
    # reach the disk. (A run that needs more memory fails instead of writing them out.)
    con = duckdb.connect(":memory:")
    con.execute("SET temp_directory = ''")
    con.execute("SET enable_external_access = false")
    return con


def _train(linker, rows: int) -> None:
    """EM training on the data itself (u by random sampling, m by EM, the prior from exact rules)."""
    from splink import block_on

    deterministic = [block_on("id_number"), block_on("phone", "birth_date")]
    try:
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    except Exception:  # no pair at all under those rules: keep the default prior
        logger.info("prior not estimated; using the default")
    # No seed: a seeded sample is far slower in DuckDB; u estimates from 1e6 pairs vary little.
    linker.training.estimate_u_using_random_sampling(max_pairs=min(1e6, max(1e4, rows**2 / 4)))
    for rule in (block_on("id_number"), block_on("name", "birth_date")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception:  # a block with no pairs: m stays at its default for those levels
            logger.info("EM on %s skipped", rule)


def train_model(candidates: Iterable[Candidate]) -> dict:
    """Train on `candidates` and return the model (settings with m, u and the prior) as a dict."""
    from splink import DuckDBAPI, Linker

    con = _connection()
    try:
        frame = _frame(candidates)
        linker = Linker(DuckDBAPI(connection=con).register(frame), settings())
        _train(linker, len(frame))
        return linker.misc.save_model_to_json()
    finally:
        con.close()


def find_pairs(candidates: Iterable[Candidate], *, threshold: float = 0.95) -> list[Pair]:
    """Score the candidates against each other; the pairs at or above `threshold`, best first.

    With at least `MIN_TRAINING_RECORDS` records the model is trained on them; below that EM has too
    few pairs to learn from (on 40 records it calls most pairs matches), so the shipped model is used:
    `data/model.json`, trained by `train_model` on 100,000 generated records (`python -m bench.identity
    --save-model`).
    """
    frame = _frame(candidates)
    if len(frame) < 2:
        return []  # nothing to compare (a new installation): no need to load Splink at all
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    con = _connection()
    try:
        sdf = DuckDBAPI(connection=con).register(frame)
        if len(frame) >= MIN_TRAINING_RECORDS:
            linker = Linker(sdf, settings())
            _train(linker, len(frame))
        else:
            linker = Linker(sdf, json.loads(SHIPPED_MODEL.read_text(encoding="utf-8")))
        predictions = linker.inference.predict(threshold_match_probability=threshold)
        relation = predictions.as_duckdbpyrelation()
        return _pairs(relation.fetchall(), list(relation.columns), _level_weights(linker))
    finally:
        con.close()


def _level_weights(linker) -> dict[str, list[tuple[int, float]]]:
    """Per field, (gamma, match weight) of each trained level; a null level is (-1, 0.0)."""
    out = {}
    for comparison in linker._settings_obj.comparisons:
        out[comparison.output_column_name] = [
            (-1 if level.is_null_level else level.comparison_vector_value, _safe_log2_bf(level))
            for level in comparison.comparison_levels
        ]
    return out


def _safe_log2_bf(level) -> float:
    try:
        return level._log2_bayes_factor
    except (ValueError, TypeError, ZeroDivisionError):  # m or u of 0 (a level never seen in training)
        return -99.0


def _gamma(levels: list[tuple[int, float]], weight: float) -> int:
    """The level a pair fell in, recognised by its weight (Splink 5 returns weights, not gammas)."""
    return min(levels, key=lambda lw: abs(lw[1] - weight))[0]


def _pairs(rows: list[tuple], columns: list[str], level_weights: dict[str, list[tuple[int, float]]]) -> list[Pair]:
    index = {name: i for i, name in enumerate(columns)}
    exact = {f: {round(w, 6): g for g, w in level_weights[f]} for f in FIELDS}
    pairs = []
    different_id = 0
    for row in rows:
        levels, weights = {}, {}
        for f in FIELDS:
            weight = float(row[index[f"mw_{f}"]])
            gamma = exact[f].get(round(weight, 6))
            levels[f] = gamma if gamma is not None else _gamma(level_weights[f], weight)
            if f"mw_tf_adj_{f}" in index and row[index[f"mw_tf_adj_{f}"]] is not None:
                weight += float(row[index[f"mw_tf_adj_{f}"]])
            weights[f] = round(weight, 2)
        if levels["id_number"] == different_id:
            continue  # two valid resident IDs more than a typo apart are two people, whatever else agrees
        left, right = row[index["unique_id_l"]], row[index["unique_id_r"]]
        if left > right:
            left, right = right, left
        pairs.append(Pair(left=left, right=right, match_weight=round(float(row[index["match_weight"]]), 2),
                          match_probability=float(row[index["match_probability"]]), levels=levels,
                          weights=weights))
    pairs.sort(key=lambda p: -p.match_weight)
    return pairs
