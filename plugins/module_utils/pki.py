# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Keys and certificates made in one call: the PostgreSQL CA and each database
host's certificate on the controller (action zulip_pki), an app server's
self-signed certificate on the host (module zulip_self_signed).

Each function looks at what exists first and makes something new only when it
is missing or no longer fits (another key, other names, another CA, or fewer
than RENEW_DAYS left), so a second run changes nothing. Works with the
cryptography of Debian 12 (38) and of the controller's venv."""

from __future__ import annotations

import datetime
import ipaddress
import os
import tempfile

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:  # reported by the callers
    HAS_CRYPTOGRAPHY = False

# A certificate with fewer days left than this is made again.
RENEW_DAYS = 30


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_private(path, data, mode):
    """Write atomically with the given mode from the start (a key is never readable by others)."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def new_key(kind):
    if kind == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "secp384r1":
        return ec.generate_private_key(ec.SECP384R1())
    raise ValueError(f"unknown key type {kind}")


def key_matches(key, kind):
    if kind == "rsa2048":
        return isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    return isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1"


def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def load_key(data):
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        return None


def load_cert(data):
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        return None


def fix_mode(path, mode, check_mode):
    """Give an existing file its mode back; True when it had drifted."""
    if os.stat(path).st_mode & 0o7777 == mode:
        return False
    if not check_mode:
        os.chmod(path, mode)
    return True


def ensure_key(path, kind, check_mode):
    """(key, changed): the key in path (mode 0600), made when it is missing, unreadable or of another type."""
    data = read(path)
    key = load_key(data) if data else None
    if key is not None and key_matches(key, kind):
        return key, fix_mode(path, 0o600, check_mode)
    key = new_key(kind)
    if not check_mode:
        write_private(path, pem_key(key), 0o600)
    return key, True


def general_names(names):
    """x509 names for "DNS:x" / "IP:y" strings; a bare name is an IP when it is an address."""
    out = []
    for name in names:
        if name.startswith("IP:") or (not name.startswith("DNS:") and _is_address(name)):
            out.append(x509.IPAddress(ipaddress.ip_address(name.removeprefix("IP:"))))
        else:
            out.append(x509.DNSName(name.removeprefix("DNS:")))
    return out


def _is_address(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _extension(cert, kind):
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _same_public_key(cert, key):
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert.public_key().public_bytes(*fmt) == key.public_key().public_bytes(*fmt)


def _signed_by(cert, issuer_cert):
    if cert.issuer != issuer_cert.subject:
        return False
    try:
        verify = getattr(cert, "verify_directly_issued_by", None)
        if verify is not None:
            verify(issuer_cert)
            return True
        public = issuer_cert.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            from cryptography.hazmat.primitives.asymmetric import padding
            public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        return True
    except Exception:  # any failure to verify means: not signed by it
        return False


def cert_problem(cert, key, common_name, sans=None, issuer=None, is_ca=False, eku=None):
    """Why cert no longer fits (a short reason), or None when it does."""
    if cert is None:
        return "missing"
    if not _same_public_key(cert, key):
        return "made for another key"
    if cert.subject != _name(common_name):
        return "another subject"
    if sans is not None:
        have = _extension(cert, x509.SubjectAlternativeName)
        if have is None or set(have) != set(general_names(sans)):
            return "other names"
    constraints = _extension(cert, x509.BasicConstraints)
    if bool(constraints and constraints.ca) != is_ca:
        return "CA flag differs"
    if eku is not None:
        have = _extension(cert, x509.ExtendedKeyUsage)
        if have is None or set(have) != set(eku):
            return "other key usages"
    if issuer is not None and not _signed_by(cert, issuer):
        return "not signed by the CA"
    if not_after(cert) - utcnow() < datetime.timedelta(days=RENEW_DAYS):
        return "expires soon"
    return None


def build(subject_cn, public_key, issuer_name, signing_key, days, is_ca, sans=None, eku=None):
    now = utcnow()
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject_cn))
               .issuer_name(issuer_name)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days)))
    if is_ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names(sans)), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def ensure_cert(path, key, common_name, days, check_mode, sans=None, issuer=None, issuer_key=None, is_ca=False,
                eku=None, mode=0o644):
    """(cert, changed, reason): the certificate in path, made again when cert_problem finds one.
    Without issuer it is self-signed."""
    data = read(path)
    cert = load_cert(data) if data else None
    reason = cert_problem(cert, key, common_name, sans=sans, issuer=issuer, is_ca=is_ca, eku=eku)
    if reason is None:
        return cert, fix_mode(path, mode, check_mode), None
    cert = build(common_name, key.public_key(), issuer.subject if issuer is not None else _name(common_name),
                 issuer_key if issuer_key is not None else key, days, is_ca, sans=sans, eku=eku)
    if not check_mode:
        write_private(path, pem_cert(cert), mode)
    return cert, True, reason


SERVER_CLIENT_EKU = None if not HAS_CRYPTOGRAPHY else (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)
