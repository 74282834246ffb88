# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT KaTeX.  katex/cli as Zulip bundles it
# (webpack-bundles/katex-cli.js, after katex.py): the TeX on stdin, the HTML
# on stdout; --display-mode (-d) for display math; exit 1 on a parse error.
import sys


def main(argv):
    display = False
    for arg in argv[1:]:
        if arg in ("-d", "--display-mode"):
            display = True
        else:
            sys.stderr.write(f"error: unknown option '{arg}'\n")
            return 1
    try:
        print(render_to_string(sys.stdin.read(), display_mode=display))  # noqa: F821
    except ParseError as e:  # noqa: F821
        sys.stderr.write(f"{e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
