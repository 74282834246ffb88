#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# The work is done on the controller, by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_pki
author: zulip.server maintainers
version_added: "0.2.0"
short_description: A cluster's CA and a host's TLS key and certificate, made on the controller in one step
description:
  - Runs on the controller only, in Ansible's own process (no module is sent, the host is not contacted).
  - Makes, in O(dir), the cluster's CA (C(ca.key), EC P-384, and C(ca.crt), self-signed, C(CA:TRUE, pathlen:0),
    for O(ca_days)) unless O(ca_cert) and O(ca_key) name the operator's own CA, and this host's key
    (C(<name>.key), EC P-384) and certificate (C(<name>.crt), signed by the CA, for serverAuth and clientAuth, with
    O(subject_alt_names), for O(days)).
  - Each is made only when it is missing or no longer fits - another key, other names, another CA, or fewer than 30
    days left - so a second run changes nothing. Keys are written with mode C(0600); the CA is made once when all
    hosts of a play run it at the same time.
  - Returns the CA certificate, the certificate and the key as text, to be installed on the host
    (M(zulip.server.zulip_files)); use C(no_log).
  - In check mode nothing is written; before the first real run (no O(dir) yet) it returns C(ready=false).
options:
  dir:
    description: Directory on the controller that keeps the CA and the hosts' keys and certificates (made, mode C(0700)).
    type: path
    required: true
  name:
    description: The host's file name in O(dir) (C(<name>.key), C(<name>.crt)); usually its inventory name.
    type: str
    required: true
  common_name:
    description: The certificate's subject common name.
    type: str
    required: true
  subject_alt_names:
    description: Its subjectAltName entries, C(DNS:<name>) or C(IP:<address>).
    type: list
    elements: str
    default: []
  ca_common_name:
    description: The common name of a CA this module makes.
    type: str
    default: zulip.server CA
  ca_cert:
    description: The operator's CA certificate on the controller (with O(ca_key)); default C(<dir>/ca.crt), made.
    type: path
  ca_key:
    description: The operator's CA key on the controller (with O(ca_cert)); default C(<dir>/ca.key), made.
    type: path
  ca_days:
    description: Validity of a CA this module makes, in days.
    type: int
    default: 3650
  days:
    description: Validity of the host's certificate, in days.
    type: int
    default: 730
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  action:
    support: full
requirements:
  - The Python package cryptography on the controller.
"""

EXAMPLES = r"""
- name: The cluster's CA and this database host's certificate
  zulip.server.zulip_pki:
    dir: ~/.ansible/zulip.server/postgresql-tls/zulip
    name: "{{ inventory_hostname }}"
    common_name: "{{ inventory_hostname }}"
    subject_alt_names: ["DNS:{{ inventory_hostname }}", "IP:10.0.0.5"]
    ca_common_name: zulip.server PostgreSQL CA (zulip)
  register: tls
  no_log: true
"""

RETURN = r"""
ready:
  description: Whether the files exist (false only in check mode before the first run).
  returned: always
  type: bool
changed_files:
  description: The controller's files made or made again (as they would be, in check mode).
  returned: always
  type: list
  elements: str
reasons:
  description: Why a certificate was made again, by path (V(missing), V(other names), V(expires soon), ...).
  returned: when ready
  type: dict
ca_cert:
  description: The CA certificate (PEM).
  returned: when ready
  type: str
cert:
  description: The host's certificate (PEM).
  returned: when ready
  type: str
key:
  description: The host's private key (PEM).
  returned: when ready
  type: str
"""
