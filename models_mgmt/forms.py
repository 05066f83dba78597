"""HTML forms of models_mgmt: the pipeline settings page (input shape only; the
rules are PipelineSerializer's, applied by models_mgmt.services.pipeline)."""

import json
import math

from django import forms

from annotate.validators import COLD_START_STRATEGIES
from ml import config as ml_config
from ml import thresholds
from ml.selection import PARAM_KEYS, STRATEGIES, param_specs, validate_strategy_params
from models_mgmt.selectors import PipelineSettings

JSON_FIELDS = ("trigger_kpi",)
# The generated fields: one per strategy parameter (any strategy's), per model
# configuration key and per comparison key, named <prefix><key>.
STRATEGY_PREFIX, MODEL_PREFIX, COMPARISON_PREFIX = "sp_", "mc_", "cc_"
_CONFIGS = (
    ("model_config", MODEL_PREFIX, ml_config.MODEL_FIELDS),
    ("comparison_config", COMPARISON_PREFIX, ml_config.COMPARISON_FIELDS),
)
_API_PREFIX = {
    "strategy_params": STRATEGY_PREFIX,
    "model_config": MODEL_PREFIX,
    "comparison_config": COMPARISON_PREFIX,
}


def setting_text(value) -> str:
    """A setting's value as its box shows it (JSON's true/false for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _typed(kind: str, text: str):
    """The value a box's text stands for, by the kind of its setting; ValueError
    with the reason when the text is not of that kind."""
    if kind in ("integer", "auto_integer"):
        if kind == "auto_integer" and text == "auto":
            return text
        try:
            return int(text)
        except ValueError:
            raise ValueError(
                "must be an integer" + (' or "auto"' if kind == "auto_integer" else "")
            ) from None
    if kind == "number":
        try:
            value = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    if kind == "bool":
        return text == "true"
    return text


def _generated_field(spec: dict) -> forms.Field:
    default = setting_text(spec["default"])
    if spec["kind"] in ("choice", "bool"):
        options = spec.get("options") or ("true", "false")
        return forms.ChoiceField(
            required=False,
            choices=[("", f"default ({default})"), *((o, o) for o in options)],
            error_messages={"invalid_choice": "must be one of " + ", ".join(options)},
        )
    return forms.CharField(required=False, max_length=100)


def _all_specs() -> list[tuple[str, dict]]:
    """(field name, spec) of every generated field."""
    out, seen = [], set()
    for strategy in STRATEGIES:
        for spec in param_specs(strategy):
            if spec["key"] not in seen:
                seen.add(spec["key"])
                out.append((STRATEGY_PREFIX + spec["key"], spec))
    for _field, prefix, fields in _CONFIGS:
        out += [(prefix + spec["key"], spec) for spec in ml_config.field_specs(fields)]
    return out


_SPECS = dict(_all_specs())
assert all(STRATEGY_PREFIX + k in _SPECS for k in PARAM_KEYS)
# Which box shows an API field's reason ("triggers" by the sub-field it names).
_ERROR_FIELD = {"split": "split_train", "non_field_errors": None}
_TRIGGER_FIELD = {
    "cron": "trigger_cron",
    "every_n_approved": "trigger_every_n_approved",
    "kpi": "trigger_kpi",
}


class JsonTextField(forms.CharField):
    """A JSON object typed into a textarea ("{}" when left empty)."""

    widget = forms.Textarea

    def __init__(self, **kwargs):
        super().__init__(required=False, strip=True, **kwargs)

    def to_python(self, value):
        text = super().to_python(value) or "{}"
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise forms.ValidationError("not valid JSON") from None


class PipelineSettingsForm(forms.Form):
    """Every pipeline setting of the page, in the API's shape once cleaned
    (api_data). A bound form shows what was typed, each reason under its box."""

    strategy = forms.ChoiceField(choices=[(s, s) for s in sorted(STRATEGIES)])
    cold_start_strategy = forms.ChoiceField(
        choices=[(s, s) for s in COLD_START_STRATEGIES]
    )
    split_train = forms.FloatField(error_messages={"invalid": "a number"})
    split_val = forms.FloatField(error_messages={"invalid": "a number"})
    split_test = forms.FloatField(error_messages={"invalid": "a number"})
    split_seed = forms.IntegerField(error_messages={"invalid": "an integer"})
    # Empty keeps the saved share (0 unless set).
    consensus_share = forms.FloatField(
        required=False, error_messages={"invalid": "a number from 0 to 1"}
    )
    check_share = forms.FloatField(
        required=False, error_messages={"invalid": "a number from 0 to 1"}
    )
    trigger_cron = forms.CharField(required=False, max_length=200)
    trigger_every_n_approved = forms.IntegerField(
        required=False, error_messages={"invalid": "an integer, or empty"}
    )
    trigger_kpi = JsonTextField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, spec in _SPECS.items():
            self.fields[name] = _generated_field(spec)
        self._typed: dict[str, object] = {}

    @classmethod
    def initial_from(cls, settings: PipelineSettings) -> dict:
        """The form's initial values: the saved settings (a key left out of a
        saved configuration shows an empty box: its default)."""
        split, triggers = settings.split, settings.triggers
        saved = {STRATEGY_PREFIX: settings.strategy_params or {}}
        saved[MODEL_PREFIX] = settings.model_config or {}
        saved[COMPARISON_PREFIX] = settings.comparison_config or {}
        generated = {
            prefix + key: setting_text(value)
            for prefix, values in saved.items()
            for key, value in values.items()
            if prefix + str(key) in _SPECS
        }
        return {
            **generated,
            "strategy": settings.strategy,
            "cold_start_strategy": settings.cold_start_strategy,
            **{f"split_{k}": v for k, v in split.items()},
            "consensus_share": settings.consensus_share,
            "check_share": settings.check_share,
            "trigger_cron": triggers["cron"],
            "trigger_every_n_approved": triggers["every_n_approved"],
            "trigger_kpi": json.dumps(triggers["kpi"]),
        }

    def rows(self, prefix: str, strategy: str | None = None) -> list[tuple]:
        """(bound field, spec, default as shown) of one group of generated
        fields: `strategy`'s parameters, the model or the comparison keys."""
        if prefix == STRATEGY_PREFIX:
            if strategy not in STRATEGIES:
                return []
            specs = param_specs(strategy)
        else:
            fields = dict((p, f) for _n, p, f in _CONFIGS)[prefix]
            specs = ml_config.field_specs(fields)
        return [
            (self[prefix + spec["key"]], spec, setting_text(spec["default"]))
            for spec in specs
        ]

    def _keys(self, prefix: str) -> list[str]:
        if prefix == STRATEGY_PREFIX:
            spec = STRATEGIES.get(self.cleaned_data.get("strategy"))
            return list(spec.defaults) if spec else []
        return list(dict((p, f) for _n, p, f in _CONFIGS)[prefix])

    def clean(self):
        """Each filled generated box: its text as a value of its kind, checked
        alone by the registry's or ml.config's rules, so every wrong box shows
        its own reason; an empty box leaves its key out (its default)."""
        data = super().clean()
        strategy = data.get("strategy")
        for prefix in (STRATEGY_PREFIX, MODEL_PREFIX, COMPARISON_PREFIX):
            values = {}
            for key in self._keys(prefix):
                name = prefix + key
                text = (data.get(name) or "").strip()
                if not text or name in self.errors:
                    continue
                try:
                    value = _typed(_SPECS[name]["kind"], text)
                    if prefix == STRATEGY_PREFIX:
                        validate_strategy_params(strategy, {key: value})
                    elif prefix == MODEL_PREFIX:
                        ml_config.validate_model_config({key: value})
                    else:
                        ml_config.validate_comparison_config({key: value})
                except (ValueError, TypeError) as exc:
                    self.add_error(name, _reason(str(exc)))
                    continue
                values[key] = value
            self._typed[prefix] = values
        return data

    def api_data(self) -> dict:
        """The cleaned input as a PATCH body of /pipeline/ (call after is_valid)."""
        data = self.cleaned_data
        extra = {
            key: data[key]
            for key in ("consensus_share", "check_share")
            if data.get(key) is not None
        }
        return {
            **extra,
            "strategy": data["strategy"],
            "strategy_params": self._typed[STRATEGY_PREFIX],
            "cold_start_strategy": data["cold_start_strategy"],
            "split": {
                "train": data["split_train"],
                "val": data["split_val"],
                "test": data["split_test"],
                "seed": data["split_seed"],
            },
            "model_config": self._typed[MODEL_PREFIX],
            "comparison_config": self._typed[COMPARISON_PREFIX],
            "triggers": {
                "cron": data["trigger_cron"],
                "every_n_approved": data["trigger_every_n_approved"],
                "kpi": data["trigger_kpi"],
            },
        }

    def add_api_errors(self, message_dict: dict[str, list[str]]) -> None:
        """Show the reasons of a refused update ({API field: [reason]}) under the
        boxes they are about."""
        for field, reasons in message_dict.items():
            for reason in reasons:
                target = _ERROR_FIELD.get(field, field)
                if field in _API_PREFIX:
                    key = reason.split(":", 1)[0].removeprefix("params.")
                    target = _API_PREFIX[field] + key
                    reason = _reason(reason)
                if field == "triggers":
                    sub = reason.split(":", 1)[0].split(".", 1)[0]
                    target = _TRIGGER_FIELD.get(sub, "trigger_kpi")
                if target is not None and target not in self.fields:
                    target = None
                self.add_error(target, reason)

    def reasons(self) -> str:
        """All errors on one line, "field: reason; ..." (the page's summary)."""
        return "; ".join(
            f"{_shown_name(field)}: {' '.join(msgs)}"
            for field, msgs in self.errors.items()
        )


_GROUP_NAMES = {
    STRATEGY_PREFIX: "strategy parameter",
    MODEL_PREFIX: "model configuration",
    COMPARISON_PREFIX: "comparison",
}


def _shown_name(field: str) -> str:
    """A field's name as the page's summary says it ("model configuration
    imgsz", not "mc_imgsz")."""
    for prefix, group in _GROUP_NAMES.items():
        if field.startswith(prefix) and field in _SPECS:
            return f"{group} {field.removeprefix(prefix)}"
    return field


def _reason(message: str) -> str:
    """A validator's "<key>: <reason>" (or "params.<key>: ...") as the reason
    shown under the key's own box."""
    head, sep, rest = message.partition(": ")
    return rest if sep and " " not in head else message


class LabelsForm(forms.Form):
    """`action=labels`: the class names, comma-separated (order = class index)."""

    labels = forms.CharField(max_length=5000, required=False)

    def clean_labels(self) -> list[str]:
        raw = self.cleaned_data["labels"]
        return [x.strip() for x in raw.split(",") if x.strip()]


class GoalForm(forms.Form):
    """`action=goal`: how many ground-truth items the team wants (blank: none).
    The bounds are project_update's (it raises for anything else)."""

    goal = forms.CharField(max_length=20, required=False)

    def clean_goal(self) -> int | None:
        raw = self.cleaned_data["goal"].strip().replace(",", "").replace("_", "")
        if not raw:
            return None
        if not raw.isdigit():
            raise forms.ValidationError("the goal is a whole number of items")
        return int(raw)


class BacktestForm(forms.Form):
    """A backtest request: which strategies (random is always the control) and
    the sizes (checked against the ground truth by backtest_clean)."""

    strategies = forms.MultipleChoiceField(
        choices=[(name, name) for name in STRATEGIES if name != "random"],
        widget=forms.CheckboxSelectMultiple,
        help_text="random is always run as the control",
    )
    initial = forms.IntegerField(min_value=2, max_value=10_000)
    batch = forms.IntegerField(min_value=1, max_value=10_000)
    rounds = forms.IntegerField(min_value=1, max_value=20)
    seeds = forms.IntegerField(min_value=1, max_value=10)


class BaseWeightsForm(forms.Form):
    """Pretrained weights (a .pt) to start training from instead of random init."""

    weights = forms.FileField(help_text="an ultralytics .pt file, e.g. yolov8n.pt")
    name = forms.CharField(max_length=100, required=False)


class ThresholdsForm(forms.Form):
    """`action=thresholds`: the error-analysis thresholds (ml.thresholds), one
    box each; an empty box keeps the saved value. The rules are the pipeline
    resource's (PATCH {"thresholds": {...}})."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for spec in thresholds.THRESHOLDS:
            self.fields[spec.name] = forms.FloatField(
                required=False,
                label=spec.help,
                error_messages={"invalid": "a number from 0 to 1"},
            )

    def rows(self):
        """(spec, bound field) per threshold, in the page's order."""
        return [(spec, self[spec.name]) for spec in thresholds.THRESHOLDS]

    def api_data(self) -> dict:
        """The PATCH body of /pipeline/ (call after is_valid)."""
        given = {k: v for k, v in self.cleaned_data.items() if v is not None}
        return {"thresholds": given}

    def add_api_errors(self, message_dict: dict[str, list[str]]) -> None:
        """Put "name: reason" under the box it names."""
        for reasons in message_dict.values():
            for reason in reasons:
                name, _, rest = reason.partition(":")
                if name in self.fields and rest:
                    self.add_error(name, rest.strip())
                else:
                    self.add_error(None, reason)
