# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: zulip_sha256
author: zulip.server maintainers
version_added: "0.2.0"
short_description: SHA-256 of files on the controller
description:
  - Returns the SHA-256 (hex) of each file named, read on the controller. A role compares it with what a probe of the
    host found, and copies a release tarball only when the host's copy differs.
options:
  _terms:
    description: Paths of files on the controller.
    required: true
    type: list
    elements: path
"""

EXAMPLES = r"""
- name: Copy the release only when the host's copy differs
  ansible.builtin.copy:
    src: "{{ zulip_release }}"
    dest: /home/zulip/archives/{{ zulip_release | basename }}
    mode: "0644"
  when: probe.checksums[dest] != lookup('zulip.server.zulip_sha256', zulip_release)
"""

RETURN = r"""
_raw:
  description: One hex digest per file.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.zulip.server.plugins.module_utils.probe import sha256_of


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        out = []
        for term in terms:
            try:
                digest = sha256_of(term)
            except OSError as error:
                raise AnsibleLookupError(f"cannot read {term}: {error.strerror}") from error
            if digest is None:
                raise AnsibleLookupError(f"cannot read {term}: {'not a file' if os.path.exists(term) else 'no such file'}")
            out.append(digest)
        return out
