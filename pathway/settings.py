"""Site settings (pathway-spec §1.1): [DESIGN] parameters a site may change after local sign-off.

Each card that depends on a setting shows the value in use and its source.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

#: where each shipped default comes from (shown on cards)
DEFAULT_SOURCES: dict[str, str] = {
    "sirolimus_trough_target_ng_ml": "EU SmPC, sporadic LAM (P-SIRO) [V]: 5-15 ng/mL",
    "size_discordance_fraction": "none (arbitrary); needs clinical sign-off (spec §2.8 rule 5)",
    "s8_prior_lines_trigger": "none (existing design choice); with clinician confirmation (spec §3 S8)",
}


@dataclass(frozen=True)
class SiteSettings:
    """``SiteSettings()`` = shipped defaults; ``SiteSettings.from_mapping({...})`` = a site's overrides."""

    sirolimus_trough_target_ng_ml: tuple[float, float] = (5.0, 15.0)  # EU SmPC S-LAM [V] (decision C2)
    size_discordance_fraction: float = 0.20  # pathology vs imaging size, fraction of the pathology size
    s8_prior_lines_trigger: int = 3  # prior lines for advanced disease (with clinician confirmation)

    def __post_init__(self) -> None:
        low, high = self.sirolimus_trough_target_ng_ml
        if not (0 < low < high <= 60):
            raise ValueError(f"sirolimus_trough_target_ng_ml must be 0 < low < high <= 60 ng/mL, got {low}-{high}")
        if not (0 < self.size_discordance_fraction < 1):
            raise ValueError("size_discordance_fraction must be between 0 and 1 (exclusive)")
        if not (1 <= self.s8_prior_lines_trigger <= 10):
            raise ValueError("s8_prior_lines_trigger must be an integer between 1 and 10")

    @property
    def trough_target_mid(self) -> float:
        low, high = self.sirolimus_trough_target_ng_ml
        return (low + high) / 2

    def source_of(self, name: str) -> str:
        """"shipped default (<source>)" or "site setting (changed from the shipped default)"."""
        default = SiteSettings.__dataclass_fields__[name].default
        if getattr(self, name) == default:
            return f"shipped default ({DEFAULT_SOURCES[name]})"
        return f"site setting (shipped default: {DEFAULT_SOURCES[name]})"

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> "SiteSettings":
        """Build from e.g. ``{"sirolimus_trough_target_ng_ml": [15, 20]}``; a ``note`` key is ignored.

        Raises ValueError on unknown keys or values out of range (never silently falls back).
        """
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in mapping.items():
            if key == "note":
                continue
            if key not in known:
                raise ValueError(f"unknown site setting {key!r}")
            values[key] = value
        if "sirolimus_trough_target_ng_ml" in values:
            target = values["sirolimus_trough_target_ng_ml"]
            if not isinstance(target, (list, tuple)) or len(target) != 2 or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in target
            ):
                raise ValueError("sirolimus_trough_target_ng_ml must be [low, high] in ng/mL")
            values["sirolimus_trough_target_ng_ml"] = (float(target[0]), float(target[1]))
        if "size_discordance_fraction" in values:
            fraction = values["size_discordance_fraction"]
            if not isinstance(fraction, (int, float)) or isinstance(fraction, bool):
                raise ValueError("size_discordance_fraction must be a number")
            values["size_discordance_fraction"] = float(fraction)
        if "s8_prior_lines_trigger" in values and (
            not isinstance(values["s8_prior_lines_trigger"], int) or isinstance(values["s8_prior_lines_trigger"], bool)
        ):
            raise ValueError("s8_prior_lines_trigger must be an integer")
        return cls(**values)
