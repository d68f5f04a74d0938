"""river's HalfSpaceTrees (behind a min-max scaler) as a selectable per-series detector.

river models are not plain data, so the serialisable state is the series' recent values: the
model is rebuilt by replaying them (seeded, so replay is deterministic). Replay is exact while
the series has at most ``REPLAY_POINTS`` points; beyond that a restored model has seen only the
last ``REPLAY_POINTS`` (HalfSpaceTrees itself only keeps a 250-point reference window, so the
difference is small). Its score is river's mass-based score in [0, 1], not calibrated.
"""

from __future__ import annotations

from typing import Any, Final

from engine.vocabulary import JsonDict

REPLAY_POINTS: Final = 1000
SEED: Final = 42


class HalfSpaceTreesModel:
    """One series scored by ``MinMaxScaler | HalfSpaceTrees(seed=42)``; score, then learn.

    Examples
    --------
    >>> model = HalfSpaceTreesModel(min_samples=3)
    >>> [model.step(float(i), v) is None for i, v in enumerate([1.0, 2.0, 1.0, 2.0])]
    [True, True, True, False]
    """

    __slots__ = ("_river", "expected", "min_samples", "n", "scale", "values")

    def __init__(self, min_samples: int = 30) -> None:
        self.min_samples = min_samples
        self.n = 0
        self.values: list[float] = []
        self.expected = self.scale = 0.0
        self._river: Any = None

    def _model(self) -> Any:
        if self._river is None:
            from river import anomaly, compose, preprocessing

            self._river = compose.Pipeline(preprocessing.MinMaxScaler(),
                                           anomaly.HalfSpaceTrees(seed=SEED))
            for value in self.values:
                self._river.learn_one({"value": value})
        return self._river

    def step(self, ts: float, x: float) -> float | None:
        """Score ``x`` (``None`` during warm-up), then learn it; ``ts`` is unused."""
        model = self._model()
        point = {"value": x}
        score = float(model.score_one(point)) if self.n >= self.min_samples else None
        model.learn_one(point)
        if self.n == 0:
            self.expected = x
        self.scale += 0.05 * (abs(x - self.expected) - self.scale)
        self.expected += 0.05 * (x - self.expected)
        self.n += 1
        self.values.append(x)
        if len(self.values) > REPLAY_POINTS:
            del self.values[0]
        return score

    def to_dict(self) -> JsonDict:
        return {"min_samples": self.min_samples, "n": self.n, "values": list(self.values),
                "expected": self.expected, "scale": self.scale}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HalfSpaceTreesModel:
        model = cls(data["min_samples"])
        model.n, model.values = data["n"], list(data["values"])
        model.expected, model.scale = data["expected"], data["scale"]
        return model
