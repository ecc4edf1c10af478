"""`newsletter digest parse` through click's runner, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.conftest import SAMPLE_DIGEST, newsletter_process


def test_parse_json_prints_the_contract_objects_in_order() -> None:
    result = CliRunner().invoke(cli, ["digest", "parse", str(SAMPLE_DIGEST), "--json"])
    assert result.exit_code == 0, result.output
    papers = json.loads(result.stdout)
    assert len(papers) == 13
    assert papers[1] == {
        "arxiv_id": "2407.04051",
        "title_en": "FunAudioLLM: Voice Understanding and Generation Foundation Models "
        "for Natural Interaction Between Humans and LLMs",
        "title_zh": "FunAudioLLM：面向人类与大语言模型自然交互的语音理解与生成基础模型",
        "url": "https://arxiv.org/abs/2407.04051",
        "summary_zh": papers[1]["summary_zh"],
        "summary_en": None,
        "source": f"{SAMPLE_DIGEST}:5",
    }
    assert papers[1]["summary_zh"].startswith("本报告介绍了 FunAudioLLM")
    assert "面向人类与大语言模型" in result.stdout  # the characters as printed, not \uXXXX escapes
    assert "\\u" not in result.stdout


def test_parse_warnings_go_to_stderr_with_file_and_line() -> None:
    result = CliRunner().invoke(cli, ["digest", "parse", str(SAMPLE_DIGEST), "--json"])
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{SAMPLE_DIGEST}:43: stray paragraph left out")
    assert lines[1].startswith(f"{SAMPLE_DIGEST}:45: stray paragraph left out")
    assert lines[2] == "13 papers from 1 file, 2 warnings"
    json.loads(result.stdout)  # nothing but the document on stdout


def test_parse_lists_papers_readably() -> None:
    result = CliRunner().invoke(cli, ["digest", "parse", str(SAMPLE_DIGEST)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "2406.11832   Unveiling Encoder-Free Vision-Language Models",
        "             无编码器视觉-语言模型的探索",
        f"             {SAMPLE_DIGEST}:1",
    ]
    assert len(lines) == 13 * 3


def test_parse_works_outside_a_workspace_and_writes_nothing(nowhere: Path) -> None:
    result = CliRunner().invoke(cli, ["digest", "parse", str(SAMPLE_DIGEST)])
    assert result.exit_code == 0, result.output
    assert list(nowhere.iterdir()) == []


def test_a_file_that_is_not_utf8_is_one_error_line_and_exit_1(workspace: Path) -> None:
    digest = workspace / "bad.md"
    digest.write_bytes(b"## Title\n\xff\xfe broken\n")
    result = CliRunner().invoke(cli, ["digest", "parse", str(digest)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        result.stderr == f"Error: {digest}:2: not UTF-8 text (byte 0xff); save the file as UTF-8\n"
    )


def test_a_missing_file_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["digest", "parse", "missing.md"])
    assert result.exit_code == 2
    assert "'missing.md' does not exist" in result.stderr
    assert "Traceback" not in result.output


def test_parse_needs_a_file() -> None:
    result = CliRunner().invoke(cli, ["digest", "parse"])
    assert result.exit_code == 2


def big_digest(folder: Path, papers: int = 4000) -> Path:
    """A digest whose listing (about 520 KB) is far larger than a pipe holds (64 KB)
    plus what `head` reads before it exits: the writer always meets a closed pipe."""
    entries = [
        f"## Paper number {n} with a title long enough to fill a line\n"
        f"[第 {n} 篇论文](https://arxiv.org/abs/2401.{n:05d})\n本文提出了一种新方法。\n"
        for n in range(1, papers + 1)
    ]
    path = folder / "big.md"
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def test_piped_into_head_it_ends_quietly(workspace: Path) -> None:
    digest = big_digest(workspace)
    parse = newsletter_process(
        workspace, "digest", "parse", digest.name, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    head = subprocess.Popen(["head", "-1"], stdin=parse.stdout, stdout=subprocess.PIPE, text=True)
    with parse, head:
        assert parse.stdout is not None and parse.stderr is not None
        parse.stdout.close()  # head holds the only reading end now, as in a shell pipeline
        first_line, _ = head.communicate(timeout=60)
        errors = parse.stderr.read()
        parse.wait(timeout=60)
    assert first_line == "2401.00001   Paper number 1 with a title long enough to fill a line\n"
    assert errors == ""
    assert parse.returncode == 1


@pytest.mark.parametrize(
    "arguments",
    [
        ["digest", "parse", "big.md", "--json"],
        ["--help"],
        ["config"],
        ["digest", "parse", "big.md"],
    ],
)
def test_a_reader_gone_before_any_output_ends_it_quietly(
    workspace: Path, arguments: list[str]
) -> None:
    big_digest(workspace)
    reading, writing = os.pipe()
    os.close(reading)  # as `newsletter … | head -0`: every write meets a closed pipe
    errors = workspace / "errors.txt"
    with errors.open("w") as error_file:
        process = newsletter_process(workspace, *arguments, stdout=writing, stderr=error_file)
        os.close(writing)
        process.wait(timeout=60)
    assert errors.read_text() == ""
    assert process.returncode == 1
