"""`govcrm classifier train|evaluate|list|activate` as an operator runs it, on CSV files and history."""

import csv
import io
import json
import os
import random
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from govcrm.cases.tests.factories import dispatch_rule, register
from govcrm.intelligence.models import ClassifierModel

from .factories import LIGHT, NOISE, PARKING, WATER, message

SHARED = Path(os.environ.get("GOVCRM_SHARED_DATA", Path(__file__).resolve().parents[4] / "shared" / "data"))
TEDDY = SHARED / "teddycup2020-c-smart-gov" / "train" / "attachment2_tokenized_train.csv"


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.GOVCRM_HOME = tmp_path
    return tmp_path


def write_csv(path: Path, n_per_label: int, seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["标题", "内容", "类别"])
        for label in (LIGHT, NOISE, WATER, PARKING):
            for _ in range(n_per_label):
                w.writerow([*message(label, rng), label])
    return path


def run(*args, language: str = "en") -> list[str]:
    out = io.StringIO()
    with translation.override(language):
        call_command("classifier", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_train_then_evaluate_prints_one_json_line(db, tmp_path, home):
    train = write_csv(tmp_path / "train.csv", 15, seed=1)
    lines = run("train", "--data", str(train), "--text-column", "内容", "--label-column", "类别",
                "--title-column", "标题", "--folds", "3")
    assert any("3-fold cross-validation" in line for line in lines)
    row = ClassifierModel.objects.get(active=True)
    assert row.n_samples == 60 and row.source == "csv:train.csv"
    assert (home / row.path).is_file()
    test = write_csv(tmp_path / "test.csv", 5, seed=2)
    last = json.loads(run("evaluate", "--data", str(test), "--text-column", "内容", "--label-column", "类别",
                          "--title-column", "标题")[-1])
    assert set(last) >= {"macro_f1", "accuracy", "n", "per_class"}
    assert last["n"] == 20 and 0 <= last["macro_f1"] <= 1 and last["model"] == row.version
    assert set(last["per_class"]) == {LIGHT, NOISE, WATER, PARKING}
    assert set(last["per_class"][LIGHT]) == {"precision", "recall", "f1", "support"}


def test_a_missing_column_is_refused_and_nothing_is_saved(db, tmp_path):
    train = write_csv(tmp_path / "train.csv", 15, seed=1)
    with pytest.raises(CommandError, match="no column"):
        run("train", "--data", str(train), "--text-column", "text", "--label-column", "类别")
    with pytest.raises(CommandError, match="No such file"):
        run("train", "--data", str(tmp_path / "nope.csv"), "--text-column", "内容", "--label-column", "类别")
    assert not ClassifierModel.objects.exists()


def test_not_utf8_is_refused(db, tmp_path):
    bad = tmp_path / "gbk.csv"
    bad.write_bytes("内容,类别\n路灯不亮,x\n".encode("gbk"))
    with pytest.raises(CommandError, match="UTF-8"):
        run("train", "--data", str(bad), "--text-column", "内容", "--label-column", "类别")


def test_evaluate_needs_a_model(db, tmp_path):
    test = write_csv(tmp_path / "test.csv", 5, seed=2)
    with pytest.raises(CommandError, match="No classifier"):
        run("evaluate", "--data", str(test), "--text-column", "内容", "--label-column", "类别")
    with pytest.raises(CommandError, match="尚未训练分类模型"):
        run("evaluate", "--data", str(test), "--text-column", "内容", "--label-column", "类别", language="zh-hans")


def test_train_from_history_uses_final_categories(city):
    dispatch_rule(LIGHT, city.street1)
    dispatch_rule(WATER, city.water)
    rng = random.Random(3)
    for label in (LIGHT, WATER):
        for _ in range(12):
            title, text = message(label, rng)
            register(city.actor("agent"), category=label, title=title, description=text)
    register(city.actor("agent"), category="other.general.unclassified", description="不知道是什么")
    lines = run("train", "--folds", "0")
    row = ClassifierModel.objects.get(active=True)
    assert row.source == "history" and row.n_samples == 24 and sorted(row.labels) == [WATER, LIGHT]
    assert lines[-2].startswith("saved version")


def test_list_and_activate(db, tmp_path):
    train = write_csv(tmp_path / "train.csv", 12, seed=1)
    args = ("train", "--data", str(train), "--text-column", "内容", "--label-column", "类别", "--folds", "0")
    run(*args)
    first = ClassifierModel.objects.get(active=True)
    run(*args, "--no-activate")
    assert ClassifierModel.objects.get(active=True) == first
    second = ClassifierModel.objects.exclude(pk=first.pk).get()
    assert run("activate", second.version) == [f"active: {second.version}"]
    assert ClassifierModel.objects.get(active=True) == second
    listing = run("list")
    assert len(listing) == 2 and any(line.startswith(f"* {second.version}") for line in listing)
    with pytest.raises(CommandError, match="No such version"):
        run("activate", "19990101-000000-000000")


@pytest.mark.skipif(not TEDDY.is_file(), reason="the shared Teddy Cup data is not beside this checkout")
def test_on_a_slice_of_the_real_citizen_messages(db, tmp_path):
    """The shared data's format end to end (token text, Chinese labels), on a small slice."""
    with TEDDY.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rng = random.Random(0)
    by_label: dict[str, list] = {}
    for r in rows:
        by_label.setdefault(r["一级标签"], []).append(r)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    for path, part in ((train, slice(0, 30)), (test, slice(30, 40))):
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["tokens", "一级标签"])
            w.writeheader()
            for label_rows in by_label.values():
                for r in rng.sample(label_rows, 40)[part]:
                    w.writerow(r)
    run("train", "--data", str(train), "--text-column", "tokens", "--label-column", "一级标签", "--folds", "3")
    result = json.loads(run("evaluate", "--data", str(test), "--text-column", "tokens",
                            "--label-column", "一级标签")[-1])
    assert result["n"] == 70 and set(result["per_class"]) == set(by_label)


def test_one_label_is_refused_in_the_callers_language(db, tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("内容,类别\n" + "".join(f"路灯不亮{i},urban.lighting.out\n" for i in range(20)), encoding="utf-8")
    with pytest.raises(CommandError, match="至少需要两个类别"):
        run("train", "--data", str(one), "--text-column", "内容", "--label-column", "类别", language="zh-hans")
    assert not ClassifierModel.objects.exists()
