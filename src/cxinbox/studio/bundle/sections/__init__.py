"""The sections the studio registers: the config and its intents (every tier), the prompt history
and the presets (standard), the knowledge base (standard; chunks and original files at full) and the
bot media (standard: metadata; the files in a full ZIP)."""

from __future__ import annotations

from cxinbox.studio.bundle.registry import register_section
from cxinbox.studio.bundle.sections import config, history, knowledge, media


def register() -> None:
    for section in (*config.SECTIONS, *history.SECTIONS, knowledge.SECTION, media.SECTION):
        register_section(section)
