def operator_points_per_s(series: int, rounds: int) -> float:
    return 0.0
