#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_self_signed
author: zulip.server maintainers
version_added: "0.2.0"
short_description: A self-signed TLS key and certificate on the host, as Zulip's generate-self-signed-cert, in one call
description:
  - Makes O(key) (RSA 2048, mode C(0600)) when it is missing or not such a key, and O(cert), self-signed for
    O(common_name) with O(subject_alt_names), when it is missing or no longer fits the key, the names, or has fewer
    than 30 days left. A second run changes nothing.
  - What Zulip's C(scripts/setup/generate-self-signed-cert) gives a server installed without a certificate.
options:
  key:
    description: Path of the private key.
    type: path
    required: true
  cert:
    description: Path of the certificate (mode C(0644)).
    type: path
    required: true
  common_name:
    description: The subject's common name (the server's host name).
    type: str
    required: true
  subject_alt_names:
    description: subjectAltName entries, C(DNS:<name>) or C(IP:<address>).
    type: list
    elements: str
    default: []
  days:
    description: Validity, in days.
    type: int
    default: 3650
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    description: Any POSIX host.
    platforms: posix
requirements:
  - The Python package cryptography on the host (Debian's python3-cryptography).
"""

EXAMPLES = r"""
- name: A self-signed certificate for the server's name
  zulip.server.zulip_self_signed:
    key: /etc/ssl/private/zulip.key
    cert: /etc/ssl/certs/zulip.combined-chain.crt
    common_name: zulip.example.com
    subject_alt_names: [DNS:zulip.example.com]
"""

RETURN = r"""
changed_files:
  description: The key and certificate made (as they would be, in check mode).
  returned: always
  type: list
  elements: str
reason:
  description: Why the certificate was made (V(missing), V(other names), V(made for another key), V(expires soon)), or null.
  returned: always
  type: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.zulip.server.plugins.module_utils import pki


def main():
    module = AnsibleModule(
        argument_spec={
            "key": {"type": "path", "required": True},
            "cert": {"type": "path", "required": True},
            "common_name": {"type": "str", "required": True},
            "subject_alt_names": {"type": "list", "elements": "str", "default": []},
            "days": {"type": "int", "default": 3650},
        },
        supports_check_mode=True,
    )
    if not pki.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    p = module.params
    changed = []
    try:
        key, made = pki.ensure_key(p["key"], "rsa2048", module.check_mode)
        if made:
            changed.append(p["key"])
        _cert, made, reason = pki.ensure_cert(p["cert"], key, p["common_name"], p["days"], module.check_mode,
                                              sans=p["subject_alt_names"] or None)
        if made:
            changed.append(p["cert"])
    except (OSError, ValueError) as error:
        module.fail_json(msg=str(error), exception=traceback.format_exc())
    module.exit_json(changed=bool(changed), changed_files=changed, reason=reason)


if __name__ == "__main__":
    main()
