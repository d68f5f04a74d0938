"""vigil reference build writes a profile the monitor can use."""

from __future__ import annotations

from pathlib import Path

from connectors.reference import load_references, main


def test_build_from_csv_and_load(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    rows = ["transaction_amount,user_age_days,merchant,score"]
    rows += [f"{i * 1.5},{i % 40},{'ab'[i % 2]},{i / 100}" for i in range(100)]
    train.write_text("\n".join(rows) + "\n")
    out = tmp_path / "refs"
    code = main(
        [
            "reference",
            "build",
            "--model",
            "fraud",
            "--input",
            str(train),
            "--out",
            str(out),
            "--prediction-column",
            "score",
        ]
    )
    profiles = load_references(out)
    assert code == 0
    profile = profiles["fraud"]
    assert sorted(profile.numeric) == ["transaction_amount", "user_age_days"]
    assert profile.categorical["merchant"] == {"a": 50, "b": 50}
    assert len(profile.prediction) == 100
