"""The sections the studio registers: the config and its intents (every tier), the prompt history
and the presets (standard), the knowledge base (standard; chunks and original files at full)."""

from __future__ import annotations

from cxinbox.studio.bundle.registry import register_section
from cxinbox.studio.bundle.sections import config, history, knowledge


def register() -> None:
    for section in (*config.SECTIONS, *history.SECTIONS, knowledge.SECTION):
        register_section(section)
