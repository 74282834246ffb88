# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""TeX to HTML, as Zulip's zerver/lib/tex.py: with KATEX_SERVER (the default)
a POST to the zulip-katex service on localhost:KATEX_SERVER_PORT (no proxy,
0.5 s timeout; a failure is logged and gives None, with no fallback);
otherwise `node <STATIC_ROOT>/webpack-bundles/katex-cli.js` per fragment.
None means: show the TeX as written."""
import logging
import os
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

logger = logging.getLogger(__name__)
KATEX_TIMEOUT = 0.5  # seconds; the service answers in milliseconds
# Straight to localhost: never through Smokescreen (HTTP_proxy et al.).
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def render_tex(tex, is_inline=True):
    if settings.KATEX_SERVER:
        return _render_with_server(tex, is_inline)
    return _render_with_node(tex, is_inline)


def _render_with_server(tex, is_inline):
    data = urllib.parse.urlencode({
        "content": tex,
        "is_display": "false" if is_inline else "true",
        "shared_secret": settings.SHARED_SECRET,
    }).encode()
    url = f"http://localhost:{settings.KATEX_SERVER_PORT}/"
    try:
        with _opener.open(url, data=data, timeout=KATEX_TIMEOUT) as response:
            return response.read().decode().strip()
    except urllib.error.HTTPError as e:
        if e.code == 400:  # the TeX does not parse
            return None
        logger.warning("KaTeX rendering service failed: (%s) %s", e.code, e.read().decode(errors="replace"))
    except (TimeoutError, socket.timeout):
        logger.warning("KaTeX rendering service timed out with %d byte long input", len(tex))
    except urllib.error.URLError as e:
        if isinstance(e.reason, (TimeoutError, socket.timeout)):
            logger.warning("KaTeX rendering service timed out with %d byte long input", len(tex))
        else:
            logger.warning("KaTeX rendering service failed: %s", type(e.reason).__name__)
    except OSError as e:
        logger.warning("KaTeX rendering service failed: %s", type(e).__name__)
    return None


def _render_with_node(tex, is_inline):
    katex_path = os.path.join(settings.STATIC_ROOT, "webpack-bundles", "katex-cli.js")
    if not os.path.isfile(katex_path):
        logger.error("Cannot find KaTeX for latex rendering!")
        return None
    command = ["node", katex_path] + ([] if is_inline else ["--display-mode"])
    try:
        result = subprocess.run(command, input=tex.encode(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    if result.returncode != 0:
        return None
    return result.stdout.decode().strip()
