# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT KaTeX: a stand-in renderer, "bundled" by
# tools/update-prod-static in front of katex_server.py and katex_cli.py
# (Zulip's web/server/katex_server.ts and katex/cli, built by webpack into
# static/webpack-bundles/katex_server.js and katex-cli.js, run by node).
import html


class ParseError(Exception):
    """KaTeX's ParseError: the TeX is invalid (here: unbalanced braces or a
    dangling backslash)."""


def check_tex(tex):
    depth, i = 0, 0
    while i < len(tex):
        if tex[i] == "\\":
            if i + 1 == len(tex):
                raise ParseError(f"KaTeX parse error: Unexpected end of input after '\\' at position {i + 1}: {tex}")
            i += 1
        elif tex[i] == "{":
            depth += 1
        elif tex[i] == "}":
            depth -= 1
            if depth < 0:
                raise ParseError(f"KaTeX parse error: Unexpected '}}' at position {i + 1}: {tex}")
        i += 1
    if depth:
        raise ParseError(f"KaTeX parse error: Expected '}}', got 'EOF' at end of input: {tex}")


def render_to_string(tex, display_mode=False):
    """KaTeX-shaped HTML: MathML with the TeX as annotation, then the HTML
    rendering; display mode wrapped in katex-display."""
    check_tex(tex)
    text = html.escape(tex, quote=False)
    block = ' display="block"' if display_mode else ""
    out = (f'<span class="katex"><span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML"{block}>'
           f'<semantics><mrow><mtext>{text}</mtext></mrow><annotation encoding="application/x-tex">{text}</annotation>'
           f'</semantics></math></span><span class="katex-html" aria-hidden="true"><span class="base">{text}</span>'
           "</span></span>")
    return f'<span class="katex-display">{out}</span>' if display_mode else out
