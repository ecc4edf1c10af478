"""LaTeX in titles, summaries and abstracts: what a reader sees of each case, as plain
text (subject, preheader, text edition) and as HTML (the editions, the web pages)."""

from __future__ import annotations

import pytest
from markupsafe import Markup, escape

from newsletter.compose import latex, markup

CASES = [
    # (as typed, plain text, HTML)
    (
        r"$\textit{Who Speaks Matters}$: Roles",
        "Who Speaks Matters: Roles",
        "<em>Who Speaks Matters</em>: Roles",
    ),
    (r"$\alpha$-divergence", "α-divergence", "α-divergence"),
    (r"in $\mathcal{O}(n \log n)$ time", "in 𝒪(n log n) time", "in 𝒪(n log n) time"),
    (r"A \textbf{strong} claim", "A strong claim", "A <strong>strong</strong> claim"),
    (r"\emph{Not} now", "Not now", "<em>Not</em> now"),
    (r"a rate of $10^{-3}$", "a rate of 10⁻³", "a rate of 10⁻³"),
    (r"$x^2 + y_i$", "x² + yᵢ", "x² + yᵢ"),
    (r"$x_{t-1}$", "xₜ₋₁", "xₜ₋₁"),
    (r"$W^\top x$", "Wᵀ x", "Wᵀ x"),
    (r"$\mathbb{R}^{n \times d}$", "ℝ^(n × d)", "ℝ^(n × d)"),  # × has no superscript
    (r"$x^*$", "x^*", "x^*"),
    (r"$x \leq \epsilon$", "x ≤ ϵ", "x ≤ ϵ"),
    (r"$k$-NN and $\ell_1$", "k-NN and ℓ₁", "k-NN and ℓ₁"),
    (r"$$E=mc^2$$ and \(x^2\)", "E=mc² and x²", "E=mc² and x²"),
    ("使用$\\alpha$散度", "使用α散度", "使用α散度"),
    (r"\'Ecole na\"ive", "École naïve", "École naïve"),
    (r"We propose \method, a model", "We propose method, a model", "We propose method, a model"),
    # nested
    (r"\textbf{\textit{both}} x", "both x", "<strong><em>both</em></strong> x"),
    (r"a \emph{b $x^2$ c} d", "a b x² c d", "a <em>b x² c</em> d"),
    (r"$\textbf{v}_{\alpha}$", "v_α", "<strong>v</strong>_α"),  # α has no subscript form
    # money is money
    ("costs $5 million", "costs $5 million", "costs $5 million"),
    ("US$3 an hour", "US$3 an hour", "US$3 an hour"),
    ("$10M raised", "$10M raised", "$10M raised"),
    ("costs $2 and $3", "costs $2 and $3", "costs $2 and $3"),
    ("$5-$10 a month", "$5-$10 a month", "$5-$10 a month"),
    ("US$3 and US$5", "US$3 and US$5", "US$3 and US$5"),
    ("from $2M to $3M.", "from $2M to $3M.", "from $2M to $3M."),
    ("paid $5 for coffee and$", "paid $5 for coffee and$", "paid $5 for coffee and$"),
    (r"\$5 off \textbf{now}", "$5 off now", "$5 off <strong>now</strong>"),
    (r"$\alpha$ costs $5", "α costs $5", "α costs $5"),
    # malformed: as typed
    (r"$\frac{a}{b$ broken", r"$\frac{a}{b$ broken", r"$\frac{a}{b$ broken"),
    (r"unclosed $\alpha here", r"unclosed $\alpha here", r"unclosed $\alpha here"),
    (r"\textbf{open", r"\textbf{open", r"\textbf{open"),
    ("a backslash \\ and one at the end\\", "a backslash \\ and one at the end\\", None),
    # prose is never LaTeX
    ("5% better, a~b -- c", "5% better, a~b -- c", "5% better, a~b -- c"),
    ("", "", ""),
]


@pytest.mark.parametrize(("typed", "text", "html"), CASES, ids=[case[0] for case in CASES])
def test_each_case_reads_as_the_paper_prints_it(typed: str, text: str, html: str | None) -> None:
    assert latex.to_text(typed) == text
    expected = escape(text) if html is None else Markup(html)
    assert latex.to_html(typed) == expected


def test_html_escapes_the_text_inside_and_around_the_latex() -> None:
    typed = r"<b>&</b> \textbf{<i>} $\alpha < \beta$"
    assert latex.to_html(typed) == ("&lt;b&gt;&amp;&lt;/b&gt; <strong>&lt;i&gt;</strong> α &lt; β")
    assert latex.to_text(typed) == "<b>&</b> <i> α < β"


def test_shown_is_plain_text_that_gives_its_html_to_a_template() -> None:
    shown = latex.shown(r"$\textit{Who}$ & co")
    assert shown == "Who & co" and isinstance(shown, str)
    assert escape(shown) == Markup("<em>Who</em> &amp; co")


def test_a_summary_converts_its_latex_and_keeps_its_links() -> None:
    summary = (
        r"以 $\mathcal{O}(n)$ 训练，\textbf{更快}；代码 https://github.com/a/b_c%20d "
        r"与 [$\alpha$-版](https://example.org/x_y)。"
    )
    assert markup.to_html(summary) == (
        "以 𝒪(n) 训练，<strong>更快</strong>；代码 "
        '<a href="https://github.com/a/b_c%20d" class="url">https://github.com/a/b_c%20d</a> '
        '与 <a href="https://example.org/x_y">α-版</a>。'
    )
    assert markup.to_text(summary) == (
        "以 𝒪(n) 训练，更快；代码 https://github.com/a/b_c%20d 与 α-版 (https://example.org/x_y)。"
    )
