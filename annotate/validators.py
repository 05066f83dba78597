"""Rules of annotate's pipeline settings (selection strategy, cold start, split),
shared by the API serializer and the HTML form; checked through ml/'s rules."""

from ml import selection, splits

COLD_START_STRATEGIES = ("diversity", "random")
SELECTION_FIELDS = (
    "strategy",
    "strategy_params",
    "cold_start_strategy",
    "split",
    "consensus_share",
    "check_share",
)


def selection_settings_clean(*, current, data: dict) -> tuple[dict, dict]:
    """Check the selection and split keys of a partial update (API shape) against
    the `current` Pipeline (missing keys keep its values).

    Returns (Pipeline field values, {API field: reason}); reads nothing else and
    changes nothing.
    """
    errors: dict[str, str] = {}
    out: dict[str, object] = {}
    if "strategy" in data or "strategy_params" in data:
        strategy = data.get("strategy", current.strategy)
        params = data.get("strategy_params", current.strategy_params)
        if not isinstance(strategy, str) or strategy not in selection.STRATEGIES:
            errors["strategy"] = "must be one of " + ", ".join(
                sorted(selection.STRATEGIES)
            )
        else:
            try:
                out["strategy_params"] = selection.validate_strategy_params(
                    strategy, params if params is not None else {}
                )
                out["strategy"] = strategy
            except (ValueError, TypeError) as exc:
                errors["strategy_params"] = str(exc)
    if "cold_start_strategy" in data:
        cold = data["cold_start_strategy"]
        if cold not in COLD_START_STRATEGIES:
            errors["cold_start_strategy"] = "must be diversity or random"
        else:
            out["cold_start_strategy"] = cold
    if "split" in data:
        try:
            out.update(_split_clean(current, data["split"]))
        except (ValueError, TypeError) as exc:
            errors["split"] = str(exc)
    for key in ("consensus_share", "check_share"):
        if key not in data:
            continue
        share = data[key]
        if (
            isinstance(share, bool)
            or not isinstance(share, int | float)
            or not 0.0 <= share <= 1.0
        ):
            errors[key] = "must be a number from 0 to 1"
        else:
            out[key] = float(share)
    return out, errors


def _split_clean(current, split) -> dict:
    if not isinstance(split, dict) or set(split) - {"train", "val", "test", "seed"}:
        raise ValueError("must be an object with train, val, test, seed")
    ratios = splits.validate_split_ratios(
        {
            "train": split.get("train", current.split_train),
            "val": split.get("val", current.split_val),
            "test": split.get("test", current.split_test),
        }
    )
    seed = split.get("seed", current.split_seed)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError("seed must be an integer")
    if not -(2**31) <= seed < 2**31:
        raise ValueError("seed out of range")
    return {
        "split_train": ratios["train"],
        "split_val": ratios["val"],
        "split_test": ratios["test"],
        "split_seed": seed,
    }
