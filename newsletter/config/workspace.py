"""`newsletter init`: a workspace a newcomer fills in.

A workspace is a folder with a `newsletter.toml` (every section and key, commented,
from `reference.py`) and a `digests/` folder, with the bundled sample digest or a
note on the format. Nothing that exists is ever overwritten: a folder that already
has a `newsletter.toml` is refused before anything is written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from newsletter.config.load import CONFIG_NAME
from newsletter.config.reference import render
from newsletter.core.errors import ConfigError

PACKAGED_SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample-digest.md"
"""Where the wheel puts the sample digest (`pyproject.toml` force-includes it)."""
CHECKOUT_SAMPLE = Path(__file__).resolve().parent.parent.parent / "digests" / "sample-digest.md"
"""Where it is in a source checkout (an editable install)."""

HEADER = """\
newsletter.toml: the settings of this newsletter (made by `newsletter init`).

Every key is set to its default; change what is yours: first newsletter.from and
newsletter.base_url, then [smtp]. Relative paths resolve against this file's folder.
Secrets are never in this file: passwords come from environment variables
([smtp] and [inbox] password_env). Check it with `newsletter config`, and the whole
setup with `newsletter doctor`."""

DIGESTS_NOTE = """\
# Digests

Put one markdown digest per week here (`newsletter.digests` in newsletter.toml
names which files compose reads). Each paper is a `## ` heading with its English
title, a line with its Chinese title linked to arXiv, and a Chinese summary:

    ## FunAudioLLM: Voice Understanding and Generation Foundation Models
    [FunAudioLLM：语音理解与生成基础模型](https://arxiv.org/abs/2407.04051)

    摘要……

`newsletter digest parse digests/*.md` shows what a file holds.
"""


def sample_digest() -> Path:
    """The bundled sample digest: installed, else the checkout's."""
    return PACKAGED_SAMPLE if PACKAGED_SAMPLE.is_file() else CHECKOUT_SAMPLE


def init_workspace(folder: Path, sample: bool = True) -> list[Path]:
    """Make a workspace in `folder` (created if need be); return what was written.

    Refuses, writing nothing, when `folder` already has a `newsletter.toml` or is a file.
    """
    config = folder / CONFIG_NAME
    if config.exists():
        raise ConfigError(f"{config} exists: not overwritten (this is a workspace already)")
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a folder")
    digests = folder / "digests"
    if digests.exists() and not digests.is_dir():
        raise ConfigError(f"{digests} is a file, not a folder")
    written: list[Path] = []
    digests.mkdir(parents=True, exist_ok=True)
    target = digests / ("sample-digest.md" if sample else "README.md")
    if not target.exists():
        if sample:
            shutil.copyfile(sample_digest(), target)
        else:
            target.write_text(DIGESTS_NOTE, encoding="utf-8")
        written.append(target)
    with config.open("x", encoding="utf-8") as file:  # "x": never over a file made meanwhile
        file.write(render(header=HEADER))
    return [config, *written]
