# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A cluster's CA and one host's key and certificate, on the controller, in one
step and in the controller's own process (no module, no connection to the
host). Documentation: ``zulip_pki.py`` in plugins/modules; the key and
certificate logic is module_utils/pki.py."""

from __future__ import annotations

import fcntl
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.zulip.server.plugins.module_utils import pki

SPEC = {
    "dir": {"type": "path", "required": True},
    "name": {"type": "str", "required": True},
    "common_name": {"type": "str", "required": True},
    "subject_alt_names": {"type": "list", "elements": "str", "default": []},
    "ca_common_name": {"type": "str", "default": "zulip.server CA"},
    "ca_cert": {"type": "path"},
    "ca_key": {"type": "path"},
    "ca_days": {"type": "int", "default": 3650},
    "days": {"type": "int", "default": 730},
}


def ensure(params, check_mode):
    """The result: the CA certificate, this host's certificate and key (PEM text), and what changed."""
    directory = params["dir"]
    own_ca = bool(params["ca_cert"])
    if own_ca != bool(params["ca_key"]):
        raise AnsibleActionFail("ca_cert and ca_key go together")
    changed, reasons = [], {}
    if not os.path.isdir(directory):
        if check_mode:
            return {"ready": False, "changed": True, "changed_files": [directory]}
        os.makedirs(directory, mode=0o700)
        changed.append(directory)
    ca_cert_path = params["ca_cert"] or os.path.join(directory, "ca.crt")
    ca_key_path = params["ca_key"] or os.path.join(directory, "ca.key")
    # Every host of a play runs this at once, in its own fork: the CA is made once.
    with open(os.path.join(directory, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if own_ca:
            ca_key = pki.load_key(pki.read(ca_key_path) or b"")
            ca_cert = pki.load_cert(pki.read(ca_cert_path) or b"")
            if ca_key is None or ca_cert is None:
                raise AnsibleActionFail(f"cannot read the CA {ca_cert_path} and its key {ca_key_path}")
        else:
            ca_key, made = pki.ensure_key(ca_key_path, "secp384r1", check_mode)
            if made:
                changed.append(ca_key_path)
            ca_cert, made, reasons[ca_cert_path] = pki.ensure_cert(
                ca_cert_path, ca_key, params["ca_common_name"], params["ca_days"], check_mode, is_ca=True)
            if made:
                changed.append(ca_cert_path)
    key_path = os.path.join(directory, params["name"] + ".key")
    cert_path = os.path.join(directory, params["name"] + ".crt")
    key, made = pki.ensure_key(key_path, "secp384r1", check_mode)
    if made:
        changed.append(key_path)
    cert, made, reasons[cert_path] = pki.ensure_cert(
        cert_path, key, params["common_name"], params["days"], check_mode, sans=params["subject_alt_names"],
        issuer=ca_cert, issuer_key=ca_key, eku=pki.SERVER_CLIENT_EKU)
    if made:
        changed.append(cert_path)
    def text(path, made_pem):
        """The file as it is (its own PEM form, which the host's copy has), unless check mode only made it."""
        data = pki.read(path)
        return (made_pem if data is None or (check_mode and path in changed) else data).decode()

    return {"ready": True, "changed": bool(changed), "changed_files": changed,
            "reasons": {path: why for path, why in reasons.items() if why},
            "ca_cert": text(ca_cert_path, pki.pem_cert(ca_cert)), "cert": text(cert_path, pki.pem_cert(cert)),
            "key": text(key_path, pki.pem_key(key))}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not pki.HAS_CRYPTOGRAPHY:
            raise AnsibleActionFail("zulip_pki needs the Python package cryptography on the controller")
        validated = ArgumentSpecValidator(SPEC).validate(self._task.args)
        if validated.error_messages:
            raise AnsibleActionFail("; ".join(validated.error_messages))
        result.update(ensure(validated.validated_parameters, self._task.check_mode))
        return result
